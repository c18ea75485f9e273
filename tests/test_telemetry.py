"""OpenTelemetry spans of run(), checked with the SDK's in-memory exporter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from toolkit import run, tool

from .conftest import call

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def provider():
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):  # the global provider can be set once per process
        current = TracerProvider()
        trace.set_tracer_provider(current)
    current.add_span_processor(SimpleSpanProcessor(EXPORTER))
    yield


@pytest.fixture(autouse=True)
def clear():
    EXPORTER.clear()
    yield



@tool
def get_weather(city: str) -> dict:
    """Get the weather."""
    return {"city": city, "temperature": 21}


@tool
def broken() -> str:
    """Fails."""
    raise RuntimeError("disk on fire")


def test_spans_follow_the_genai_conventions(client, server, monkeypatch):
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    server.queue(call("get_weather", city="Paris") + call("broken"), "Paris is 21C.")
    run("Weather?", tools=[get_weather, broken], client=client, model="qwen")
    spans = {s.name: s for s in EXPORTER.get_finished_spans()}
    assert set(spans) == {"invoke_agent toolkit", "chat qwen", "execute_tool get_weather", "execute_tool broken"}
    agent = spans["invoke_agent toolkit"]
    chats = [s for s in EXPORTER.get_finished_spans() if s.name == "chat qwen"]
    assert len(chats) == 2
    for span in [*chats, spans["execute_tool get_weather"], spans["execute_tool broken"]]:
        assert span.parent is not None and span.parent.span_id == agent.context.span_id
        assert span.context.trace_id == agent.context.trace_id
    chat = chats[0].attributes
    assert chat["gen_ai.operation.name"] == "chat" and chat["gen_ai.request.model"] == "qwen"
    assert chat["gen_ai.usage.input_tokens"] > 0 and chat["gen_ai.usage.output_tokens"] > 0
    assert tuple(chat["gen_ai.response.finish_reasons"]) == ("tool_calls",)
    tool_span = spans["execute_tool get_weather"].attributes
    assert tool_span["gen_ai.tool.name"] == "get_weather" and tool_span["gen_ai.tool.call.id"].startswith("call_")
    assert spans["execute_tool get_weather"].status.is_ok
    failed = spans["execute_tool broken"]
    assert failed.status.status_code == trace.StatusCode.ERROR and failed.attributes["error.type"] == "RuntimeError"
    everything = json.dumps([dict(s.attributes) for s in EXPORTER.get_finished_spans()])
    assert "Weather?" not in everything and "Paris is 21C." not in everything  # no content by default


def test_contents_only_when_asked(client, server, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    server.queue(call("get_weather", city="Paris"), "Paris is 21C.")
    run("Weather?", tools=[get_weather], client=client)
    everything = json.dumps([dict(s.attributes) for s in EXPORTER.get_finished_spans()])
    assert "Weather?" in everything and "Paris is 21C." in everything and '\\"city\\": \\"Paris\\"' in everything


def test_a_failed_run_marks_its_span(client, server):
    from toolkit import InternalServerError
    from toolkit.testing import Fault

    server.queue(Fault("status", status=500))
    with pytest.raises(InternalServerError):
        run("x", client=client)
    agent = [s for s in EXPORTER.get_finished_spans() if s.name.startswith("invoke_agent")][0]
    assert agent.status.status_code == trace.StatusCode.ERROR and agent.attributes["error.type"] == "InternalServerError"


def test_no_provider_no_spans_and_no_import():
    code = ("import sys, toolkit\nprint('opentelemetry' in sys.modules)\n"
            "from toolkit._telemetry import telemetry\nprint(telemetry('m', None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # import toolkit does not import opentelemetry; installed but with no provider set, nothing records
    assert out.stdout.split() == ["False", "None"]
    code = ("import sys; sys.modules['opentelemetry'] = None\nimport toolkit\nfrom toolkit.testing import ScriptedClient\n"
            "print(toolkit.run('x', client=ScriptedClient(['hi'])).output)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "hi"  # opentelemetry absent: the run works and makes no span
