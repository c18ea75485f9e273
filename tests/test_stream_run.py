"""The streamed loop: deltas as they arrive, the same RunResult as without streaming, callbacks, early close."""

from __future__ import annotations

import json
import time

import pytest

from toolkit import (
    Final,
    LightLLMClient,
    ModelResponse,
    OutputDelta,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallStarted,
    ToolkitError,
    ToolResult,
    iter_run,
    run,
    tool,
)
from toolkit.testing._server import Reply

from .conftest import call


@tool
def get_weather(city: str) -> dict:
    """Get the weather for a city."""
    return {"city": city, "temperature": 21 if city == "Paris" else 25}


SCRIPT = ["Let me check both.\n" + call("get_weather", city="Paris") + call("get_weather", city="Rome"),
          "Paris is 21C and Rome is 25C."]


def _normalised(result):
    """Transcript with call ids replaced by their order (ids are random by design)."""
    text = json.dumps(result.messages)
    for i, record in enumerate(result.tool_calls):
        text = text.replace(record.id, f"id{i}")
    calls = [(r.name, r.arguments, r.result, r.content, r.error) for r in result.tool_calls]
    return json.loads(text), calls, result.output, result.usage, result.stop_reason


def test_streamed_run_equals_the_one_shot_run(any_client, server):
    server.queue(*SCRIPT)
    plain = run("weather?", tools=[get_weather], client=any_client)
    server.queue(*SCRIPT)
    streamed = run("weather?", tools=[get_weather], client=any_client, stream=True)
    assert _normalised(streamed) == _normalised(plain)
    assert streamed.output == "Paris is 21C and Rome is 25C."  # text before the calls is not the answer


def test_deltas_arrive_before_the_step_ends(any_client, server):
    server.queue(*SCRIPT)
    events = list(iter_run("weather?", tools=[get_weather], client=any_client, stream=True))
    kinds = [type(e).__name__ for e in events]
    first_response = kinds.index("ModelResponse")
    assert "TextDelta" in kinds[:first_response] and "ToolCallDelta" in kinds[:first_response]
    text_step1 = "".join(e.text for e in events[:first_response] if isinstance(e, TextDelta))
    assert text_step1.startswith("Let me check both.")
    heads = [e for e in events if isinstance(e, ToolCallDelta) and e.name]
    assert [(h.index, h.name) for h in heads] == [(0, "get_weather"), (1, "get_weather")]
    arguments = {}
    for e in events:
        if isinstance(e, ToolCallDelta) and e.step == 1:
            arguments[e.index] = arguments.get(e.index, "") + e.arguments
    assert [json.loads(a) for _, a in sorted(arguments.items())] == [{"city": "Paris"}, {"city": "Rome"}]
    answer = "".join(e.text for e in events if isinstance(e, TextDelta) and e.step == 2)
    assert answer == "Paris is 21C and Rome is 25C."
    order = [k for k in kinds if k in ("ModelResponse", "ToolCallStarted", "ToolResult", "Final")]
    assert order == ["ModelResponse", "ToolCallStarted", "ToolCallStarted", "ToolResult", "ToolResult",
                     "ModelResponse", "Final"]


def test_reasoning_deltas(server):
    server.queue("<think>Let me think.</think>The answer is 4.")
    with LightLLMClient(base_url=server.url) as c:
        events = list(iter_run("2+2?", client=c, stream=True))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert reasoning == "Let me think." and text == "The answer is 4."
    assert events[-1].result.output == "The answer is 4."


def test_output_deltas_carry_the_partial_json(any_client, server):
    from .test_output import EXPECTED, FORECAST, Forecast

    server.queue(call("final_result", **FORECAST))
    events = list(iter_run("x", client=any_client, output_type=Forecast, stream=True))
    partials = [e.partial for e in events if isinstance(e, OutputDelta)]
    assert len(partials) > 1 and all(b.startswith(a) for a, b in zip(partials, partials[1:]))
    assert json.loads(partials[-1]) == FORECAST and events[-1].result.output == EXPECTED


@pytest.mark.parametrize("stream", [False, True])
def test_on_event_sees_every_event(any_client, server, stream):
    seen = []
    server.queue(*SCRIPT)
    result = run("weather?", tools=[get_weather], client=any_client, stream=stream, on_event=seen.append)
    assert isinstance(seen[-1], Final) and seen[-1].result is result
    assert sum(isinstance(e, ToolResult) for e in seen) == 2 and sum(isinstance(e, ModelResponse) for e in seen) == 2
    assert any(isinstance(e, TextDelta) for e in seen) == stream


def test_on_event_that_raises_ends_the_run_with_a_valid_transcript(oai, server):
    def explode(event):
        if isinstance(event, ToolCallStarted):
            raise RuntimeError("ui crashed")

    server.queue(*SCRIPT)
    with pytest.raises(ToolkitError, match="on_event callback raised RuntimeError") as info:
        run("weather?", tools=[get_weather], client=oai, on_event=explode)
    messages = info.value.result.messages
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool"]
    server.pending.clear()
    server.queue("ok")
    assert run(messages, tools=[get_weather], client=oai).output == "ok"


def test_breaking_out_closes_the_stream_and_runs_no_tools(server):
    ran = []

    @tool
    def record(note: str) -> str:
        """Record a note."""
        ran.append(note)
        return "ok"

    server.queue(Reply("Thinking " * 30 + call("record", note="x"), delay=0.02))
    started = time.monotonic()
    with LightLLMClient(base_url=server.url) as c:
        events = iter_run("go", tools=[record], client=c, stream=True)
        for event in events:
            if isinstance(event, TextDelta):
                break
        events.close()
        deadline = time.monotonic() + 5
        while server.active and time.monotonic() < deadline:
            time.sleep(0.02)
    assert server.active == 0  # the server saw the connection close
    assert time.monotonic() - started < 5 and ran == []


def test_cli_run_streams_and_shows_calls(server):
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    server.queue(call("calculate", expression="6 * 7"), "<think>easy</think>The answer is 42.")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "examples")}
    out = subprocess.run([sys.executable, "-m", "toolkit", "run", str(ROOT / "examples" / "tools.py"), "6*7?",
                          "--base-url", server.url], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines == ['-> calculate({"expression": "6 * 7"})', "<- calculate: 42", "The answer is 42."]
    server.queue(call("calculate", expression="6 * 7"), "<think>easy</think>The answer is 42.")
    shown = subprocess.run([sys.executable, "-m", "toolkit", "run", str(ROOT / "examples" / "tools.py"), "6*7?",
                            "--base-url", server.url, "--show-reasoning"], capture_output=True, text=True,
                           timeout=60, env=env, cwd=ROOT)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[2:] == ["(reasoning) easy", "The answer is 42."]
