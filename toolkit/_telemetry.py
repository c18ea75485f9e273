"""OpenTelemetry spans for ``run()``, following the GenAI semantic conventions.

Active only when ``opentelemetry-api`` is installed *and* a tracer provider has been set by the
application (toolkit configures no exporter, so nothing leaves the machine by default). Then a
run gives one ``invoke_agent`` span, a ``chat`` span per model call and an ``execute_tool`` span
per tool call, children of the run's span. Message contents are recorded only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``. Without opentelemetry the cost is
one cached check per run (``import opentelemetry`` is never attempted twice).
"""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["Telemetry", "telemetry"]

_STATE: dict[str, Any] = {}


def _trace_module() -> Any:
    if "trace" not in _STATE:
        module: Any
        try:
            from opentelemetry import trace as module
        except ImportError:
            module = None
        _STATE["trace"] = module
    return _STATE["trace"]


def telemetry(model: str | None, client: Any) -> Telemetry | None:
    """A recorder for one run, or None when no tracer provider is configured."""
    trace = _trace_module()
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    if type(provider).__name__ in ("ProxyTracerProvider", "NoOpTracerProvider"):
        return None
    return Telemetry(trace, provider.get_tracer("toolkit"), model, client)


def _capture() -> bool:
    return os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").strip().lower() == "true"


class Telemetry:
    """The spans of one run."""

    def __init__(self, trace: Any, tracer: Any, model: str | None, client: Any) -> None:
        self.trace = trace
        self.tracer = tracer
        self.model = model or "default"
        self.provider = "lightllm"
        base_url = getattr(client, "base_url", None)
        self.server = base_url if isinstance(base_url, str) else None
        self.capture = _capture()
        self.agent: Any = None
        self.context: Any = None
        self.tools: dict[str, Any] = {}

    def start_run(self, messages: list[dict[str, Any]]) -> None:
        self.agent = self.tracer.start_span("invoke_agent toolkit", kind=self.trace.SpanKind.INTERNAL, attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "toolkit",
            "gen_ai.provider.name": self.provider, "gen_ai.request.model": self.model})
        self.context = self.trace.set_span_in_context(self.agent)
        if self.capture:
            self.agent.set_attribute("gen_ai.input.messages", json.dumps(messages, ensure_ascii=False, default=str))

    def end_run(self, result: Any, error: BaseException | None) -> None:
        if self.agent is None:
            return
        if result is not None:
            self.agent.set_attribute("gen_ai.usage.input_tokens", result.usage.prompt_tokens)
            self.agent.set_attribute("gen_ai.usage.output_tokens", result.usage.completion_tokens)
            self.agent.set_attribute("toolkit.stop_reason", result.stop_reason)
        if error is not None:
            self._fail(self.agent, error)
        self.agent.end()
        self.agent = None

    def start_chat(self, messages: list[dict[str, Any]]) -> Any:
        attributes: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": self.provider,
                                      "gen_ai.request.model": self.model}
        if self.server:
            attributes["server.address"] = self.server
        if self.capture:
            attributes["gen_ai.input.messages"] = json.dumps(messages, ensure_ascii=False, default=str)
        return self.tracer.start_span(f"chat {self.model}", context=self.context, kind=self.trace.SpanKind.CLIENT,
                                      attributes=attributes)

    def end_chat(self, span: Any, reply: Any, error: BaseException | None) -> None:
        if reply is not None:
            usage = reply.usage
            if usage is not None:
                span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens or 0)
                span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens or 0)
            span.set_attribute("gen_ai.response.finish_reasons",
                               [c.finish_reason or "stop" for c in reply.choices or ()])
            if reply.id:
                span.set_attribute("gen_ai.response.id", str(reply.id))
            if reply.model:
                span.set_attribute("gen_ai.response.model", str(reply.model))
            if self.capture and reply.choices:
                span.set_attribute("gen_ai.output.messages",
                                   json.dumps([reply.choices[0].message.to_dict()], ensure_ascii=False))
        if error is not None:
            self._fail(span, error)
        span.end()

    def start_tool(self, call_id: str, name: str, arguments: str) -> None:
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
                      "gen_ai.tool.call.id": call_id, "gen_ai.tool.type": "function"}
        if self.capture:
            attributes["gen_ai.tool.call.arguments"] = arguments
        self.tools[call_id] = self.tracer.start_span(f"execute_tool {name}", context=self.context,
                                                     kind=self.trace.SpanKind.INTERNAL, attributes=attributes)

    def end_tool(self, record: Any) -> None:
        span = self.tools.pop(record.id, None)
        if span is None:
            return
        if self.capture:
            span.set_attribute("gen_ai.tool.call.result", record.content)
        if record.error is not None:
            kind = type(record.exception).__name__ if record.exception is not None else \
                ("timeout" if record.timed_out else "refused")
            span.set_attribute("error.type", kind)
            span.set_status(self.trace.Status(self.trace.StatusCode.ERROR, record.error[:200]))
        span.end()

    def close_tools(self, error: BaseException) -> None:
        for span in self.tools.values():
            self._fail(span, error)
            span.end()
        self.tools.clear()

    def _fail(self, span: Any, error: BaseException) -> None:
        span.set_attribute("error.type", type(error).__name__)
        span.set_status(self.trace.Status(self.trace.StatusCode.ERROR, str(error)[:200]))
