"""The run loop's machinery: options, one ``_Loop`` per conversation, its steps.

The loop is one generator, ``_Loop.events``, that yields events as it goes; ``iter_run`` returns
it, ``run`` consumes it. One step is one model call (streamed or not) and the tool calls it
makes. Everything a model can get wrong (an unknown tool, bad JSON, wrong arguments, a tool that
raises or hangs, a call repeated in a loop, an invalid typed output) is sent back to the model,
never raised. Errors that do escape carry the run so far as ``error.result``, whose transcript a
server accepts: pass ``error.result.messages`` back in to continue.

Loaded by the first run, so ``from toolkit import run`` stays light.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from ._events import (
    Event,
    Final,
    ModelResponse,
    OutputDelta,
    ReasoningDelta,
    RunResult,
    TextDelta,
    ToolCallDelta,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStarted,
    ToolResult,
    Usage,
    UsageLimits,
)
from ._exceptions import APIStatusError, ArgumentError, OutputValidationError, ToolExecutionError
from ._execute import CallbackError, ExecOptions, Runner
from ._history import ContextFit, is_prompt_too_long, trim_tool_results
from ._output import CONSTRAINT_KEYWORDS, OutputSpec
from ._results import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_RESULT_CHARS
from .tool import RunContext, Tool, tool as make_tool

T = TypeVar("T")
REQUIRED_REMINDER = "Reply by calling one of the tools (the tool_choice is 'required'); do not answer in text."
TOOL_CHOICES = ("auto", "none", "required")
OUTPUT_RECEIVED = "Final result received."


def _tool_list(tools: Iterable[Any]) -> dict[str, Tool]:
    out: dict[str, Tool] = {}
    for item in tools or ():
        t = item if isinstance(item, Tool) else make_tool(item) if callable(item) else None
        if t is None:
            raise ValueError(f"run() needs Tool objects or callables to execute, got {type(item).__name__}")
        t.check_callable()
        if t.name in out:
            first, second = out[t.name].origin, t.origin
            if first or second:
                raise ValueError(f"two tools are named {t.name!r}: one from {first or 'your code'}, one from "
                                 f"{second or 'your code'}; use tools(prefix=...) or include=/exclude= to tell them "
                                 f"apart")
            raise ValueError(f"two tools are named {t.name!r}; give one another name with @tool(name=...)")
        out[t.name] = t
    return out


def _start_messages(input: Any, system: str | None) -> list[dict[str, Any]]:
    if isinstance(input, str):
        messages = [{"role": "user", "content": input}]
    else:
        messages = [m.to_dict() if hasattr(m, "to_dict") else dict(m) for m in input]
        if not messages:
            raise ValueError("input is empty: give a prompt string or a list of messages")
    if system is not None:  # replaces a leading system message
        if messages[0].get("role") == "system":
            messages = messages[1:]
        messages.insert(0, {"role": "system", "content": system})
    return messages


@dataclasses.dataclass
class _Options:
    """run()'s own options, checked before any request is sent."""

    max_steps: int = 10
    parallel: bool = True
    tool_choice: Any = "auto"
    context: Any = None
    approve: Callable[[ToolCallRequest], Any] | None = None
    on_tool_error: str = "feed"
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS
    max_workers: int = 8
    output_type: Any = None
    output_strategy: str = "tool"
    output_tool_name: str = "final_result"
    output_retries: int = 2
    stream: bool = False
    tool_timeout: float | None = None
    deadline: float | None = None
    final_answer_on_limit: bool = True
    limits: UsageLimits | None = None
    context_window: int | None = None
    history: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = trim_tool_results
    prepare_tools: Callable[[RunContext[Any], list[Tool]], list[Tool]] | None = None
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES

    def check(self, tools: Mapping[str, Tool]) -> OutputSpec | None:
        _positive_int("max_steps", self.max_steps)
        _positive_int("max_result_chars", self.max_result_chars)
        _positive_int("max_workers", self.max_workers)
        _positive_int("max_image_bytes", self.max_image_bytes)
        if self.context_window is not None:
            _positive_int("context_window", self.context_window)
        for name in ("tool_timeout", "deadline"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.on_tool_error not in ("feed", "raise"):
            raise ValueError(f"on_tool_error must be 'feed' (tell the model) or 'raise', got {self.on_tool_error!r}")
        for name in ("approve", "history", "prepare_tools"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise TypeError(f"{name} must be a callable, got {type(value).__name__}")
        if self.limits is not None and not isinstance(self.limits, UsageLimits):
            raise TypeError(f"limits must be a toolkit.UsageLimits, got {type(self.limits).__name__}")
        _check_tool_choice(self.tool_choice, tools)
        if self.output_type is None or self.output_type is str:
            return None
        if self.output_tool_name in tools:
            raise ValueError(f"a tool is already named {self.output_tool_name!r}; pass output_tool_name=... to name "
                             f"the output tool otherwise")
        return OutputSpec(self.output_type, self.output_strategy, self.output_tool_name, self.output_retries)


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def _check_tool_choice(choice: Any, tools: Mapping[str, Tool]) -> None:
    if isinstance(choice, str):
        if choice not in TOOL_CHOICES:
            import difflib

            close = difflib.get_close_matches(choice, TOOL_CHOICES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"tool_choice must be 'auto', 'none', 'required' or "
                             f"{{'type': 'function', 'function': {{'name': ...}}}}, got {choice!r}{hint}")
        return
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise ValueError(f"tool_choice as a dict needs {{'type': 'function', 'function': {{'name': ...}}}}, "
                             f"got {dict(choice)!r}")
        if name not in tools:
            raise ValueError(f"tool_choice names {name!r}, which is not among the tools: {', '.join(sorted(tools))}")
        return
    raise TypeError(f"tool_choice must be a string or a dict, got {type(choice).__name__}")


_OPTION_FIELDS = frozenset(f.name for f in dataclasses.fields(_Options))
_RUN_OPTIONS = frozenset({"client", "model", "system", "extra_body", "on_event", *_OPTION_FIELDS})


def _check_sampling(where: str, sampling: Mapping[str, Any]) -> None:
    from .client._client import SAMPLING_PARAMS, unknown_keyword

    for name in sampling:
        if name in CONSTRAINT_KEYWORDS:
            raise ValueError(f"{name} constrains every reply, which blocks tool calls on LightLLM and vLLM; pass "
                             f"output_type=... (with output_strategy='native' for constrained decoding) instead")
        if name not in SAMPLING_PARAMS:
            raise unknown_keyword(where, name, SAMPLING_PARAMS | _RUN_OPTIONS)


class _Step:
    """What one model call produced, for the parts of the step that follow."""

    def __init__(self, number: int, reply: Any, *, final_call: bool, forced: bool) -> None:
        self.number = number
        self.reply = reply
        self.message = reply.choices[0].message
        self.final_call = final_call
        self.forced = forced


class _Loop:
    """One run: its state, and one method per part of a step."""

    def __init__(self, input: Any, tools: Iterable[Any], *, client: Any, model: str | None, system: str | None,
                 options: _Options, sampling: dict[str, Any]) -> None:
        self.registry = _tool_list(tools)
        self.output = options.check(self.registry)
        self.options = options
        self.messages = _start_messages(input, system)
        if self.output is not None and self.output.strategy == "prompted":
            self._add_instruction(self.output.instruction())
        self.runner = Runner(self.registry, ExecOptions(
            parallel=options.parallel, context=options.context, approve=options.approve,
            max_result_chars=options.max_result_chars, max_workers=options.max_workers,
            tool_timeout=options.tool_timeout, max_image_bytes=options.max_image_bytes))
        self.owns_client = client is None
        if client is None:
            from .client import LightLLMClient

            client = LightLLMClient()
        self.client = client
        self.model = model
        self.sampling = sampling
        self.records: list[ToolCallRecord] = []
        self.usage = Usage()
        self.steps = 0
        self.response: Any = None
        self.choice = options.tool_choice
        self.pending_at: int | None = None  # index of an assistant message whose calls are not all answered
        self.output_failures = 0
        self.started = time.monotonic()
        self.deadline = self.started + options.deadline if options.deadline is not None else None
        self.max_requests = options.limits.max_requests if options.limits and options.limits.max_requests \
            else options.max_steps
        self.fit = ContextFit(options.context_window, options.history, sampling.get("max_tokens"))
        # the tools' size in the prompt, for the first estimate (later ones use the server's count)
        self.tools_chars = len(json.dumps([t.schema for t in self.registry.values()]))
        from ._telemetry import telemetry

        self.telemetry = telemetry(model, client)
        self.window_checked = options.context_window is not None

    def _add_instruction(self, text: str) -> None:
        if self.messages[0].get("role") == "system" and isinstance(self.messages[0].get("content"), str):
            self.messages[0] = {**self.messages[0], "content": self.messages[0]["content"] + "\n\n" + text}
        else:
            self.messages.insert(0, {"role": "system", "content": text})

    def result(self, stop_reason: str, output: Any = None, unrun: list[Any] | None = None,
               limit: str | None = None) -> RunResult[Any]:
        return RunResult(output=output, messages=self.messages, tool_calls=self.records, steps=self.steps,
                         usage=self.usage, stop_reason=stop_reason, response=self.response,
                         unrun_tool_calls=unrun or [], limit=limit)

    # -- the loop ------------------------------------------------------------------------------------

    def events(self) -> Generator[Event, None, None]:
        if self.telemetry is None:
            yield from self._events()
            return
        self.telemetry.start_run(self.messages)
        final: RunResult[Any] | None = None
        try:
            for event in self._events():
                if isinstance(event, ToolCallStarted):
                    self.telemetry.start_tool(event.id, event.name, event.arguments)
                elif isinstance(event, ToolResult):
                    self.telemetry.end_tool(event.record)
                elif isinstance(event, Final):
                    final = event.result
                yield event
        except BaseException as exc:
            self.telemetry.close_tools(exc)
            self.telemetry.end_run(getattr(exc, "result", None), exc)
            raise
        self.telemetry.end_run(final, None)

    def _events(self) -> Generator[Event, None, None]:
        try:
            number = 0
            while True:
                number += 1
                stop, limit = self._limit_reached(number)
                if stop is not None:
                    yield from self._end_early(number, stop, limit)
                    return
                final = yield from self.step(number, final_call=False)
                if final is not None:
                    yield final
                    return
        except BaseException as exc:
            # whatever escapes (an APIError, a callback's error, Ctrl-C) carries a transcript the
            # server accepts: unanswered calls of the last answer are answered with an error
            interrupted = isinstance(exc, KeyboardInterrupt)
            self.close_transcript("Error: interrupted before the call finished" if interrupted else
                                  f"Error: the call was not run ({type(exc).__name__})")
            try:
                exc.result = self.result("error")  # type: ignore[attr-defined]
            except AttributeError:  # an exception type with __slots__: nothing to attach to
                pass
            raise
        finally:
            if self.owns_client:
                self.client.close()

    def _limit_reached(self, number: int) -> tuple[str | None, str | None]:
        """Before a model call that may use tools: (stop_reason, limit name) when the run must end."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return "deadline", None
        if number > self.max_requests:
            limited = self.options.limits is not None and self.options.limits.max_requests is not None
            return ("limit", "max_requests") if limited else ("max_steps", None)
        limits = self.options.limits
        if limits is not None:
            if limits.max_tool_calls is not None and len(self.records) >= limits.max_tool_calls:
                return "limit", "max_tool_calls"
            token_limit = limits.token_limit_reached(self.usage)
            if token_limit is not None:
                return "limit", token_limit
        return None, None

    def _end_early(self, number: int, stop: str, limit: str | None) -> Iterator[Event]:
        """A limit, the deadline or max_steps: one last call without tools asks for the answer
        (not when a token limit is spent, nor with ``final_answer_on_limit=False`` for limits)."""
        token_limit = limit in ("max_total_tokens", "max_prompt_tokens", "max_completion_tokens")
        asked = stop == "max_steps" or self.options.final_answer_on_limit
        if token_limit or not asked:
            yield Final(self.result(stop, None, limit=limit))
            return
        final = yield from self.step(number, final_call=True)
        assert final is not None
        final.result.stop_reason = stop
        final.result.limit = limit
        yield final

    # -- one step ---------------------------------------------------------------------------------------

    def step(self, number: int, *, final_call: bool) -> Generator[Event, None, Final | None]:
        """One model call and the tool calls it makes; returns the Final event when the run ends."""
        schemas, choice = self._offer(number, final_call)
        forced = not final_call and (choice == "required" or isinstance(choice, Mapping)) and \
            not self._forces_output(choice)
        reply = yield from self.ask(number, schemas, choice)
        message = reply.choices[0].message
        if not message.tool_calls and forced:
            reply = yield from self.ask(number, schemas, choice, [{"role": "user", "content": REQUIRED_REMINDER}])
            message = reply.choices[0].message
        assistant_at = len(self.messages)
        self.messages.append(message.to_dict())
        yield ModelResponse(number, reply)
        current = _Step(number, reply, final_call=final_call, forced=forced)
        calls = list(message.tool_calls or ())
        output_calls = [c for c in calls if self.output is not None and self.output.strategy == "tool"
                        and c.function.name == self.output.tool_name]
        tool_calls = [c for c in calls if c not in output_calls]
        if not calls or (final_call and not output_calls):
            return (yield from self._no_calls(current))
        self.pending_at = assistant_at
        failed = None
        if tool_calls and not final_call:
            failed = yield from self._run_calls(tool_calls, number)
        if final_call and tool_calls:
            self._answer_unrun(tool_calls)
        final = self._take_output(output_calls, current) if output_calls else None
        self.pending_at = None
        self.messages[assistant_at] = message.to_dict()  # repaired / replaced arguments, as valid JSON
        if failed is not None and self.options.on_tool_error == "raise":
            error = ToolExecutionError(f"tool {failed.name} raised {failed.error}", tool=failed.name,
                                       call_id=failed.id)
            raise error from failed.exception
        if forced:
            self.choice = "auto"  # a forced choice is spent once a tool ran, so the loop cannot spin
        return final

    def _forces_output(self, choice: Any) -> bool:
        return self.output is not None and isinstance(choice, Mapping) and \
            (choice.get("function") or {}).get("name") == self.output.tool_name

    def _offer(self, number: int, final_call: bool) -> tuple[list[dict[str, Any]], Any]:
        """The tool schemas shown in this step and the tool_choice."""
        output_tool = self.output.tool_schema() if self.output is not None and self.output.strategy == "tool" \
            else None
        if final_call:  # no tools, or only the output tool, which the model must call
            if output_tool is not None:
                return [output_tool], {"type": "function", "function": {"name": self.output.tool_name}}  # type: ignore[union-attr]
            return [t.schema for t in self.registry.values()], "none"
        tools = list(self.registry.values())
        if self.options.prepare_tools is not None:
            tools = self._prepared(number, tools)
            self.runner.shown = {t.name for t in tools}
            self.runner.tools = {**self.registry, **{t.name: t for t in tools}}
        schemas = [t.schema for t in tools]
        if output_tool is not None:
            schemas.append(output_tool)
        return schemas, self.choice

    def _prepared(self, number: int, tools: list[Tool]) -> list[Tool]:
        prepare = self.options.prepare_tools
        assert prepare is not None
        ctx = RunContext(self.options.context, messages=list(self.messages), tool_call_id=None, step=number)
        try:
            chosen = list(prepare(ctx, tools))
        except Exception as exc:
            raise CallbackError(f"the prepare_tools callback raised {type(exc).__name__}: {exc}") from exc
        if not all(isinstance(t, Tool) for t in chosen):
            raise CallbackError("prepare_tools must return a list of Tool objects")
        return chosen

    # -- the model call ---------------------------------------------------------------------------------

    def ask(self, number: int, schemas: list[dict[str, Any]], choice: Any,
            extra: Iterable[dict[str, Any]] = (), constraint: Mapping[str, Any] | None = None
            ) -> Generator[Event, None, Any]:
        """One model call (streamed when asked), fitted to the context window; a server that
        still finds the prompt too long gets one retry with the history trimmed further."""
        kwargs = dict(self.sampling)
        if constraint:
            kwargs = _merge(kwargs, constraint)
        if schemas:
            kwargs["tools"] = schemas
            kwargs["tool_choice"] = choice
        self._learn_window()
        messages = self.messages + list(extra)
        tools_chars = self.tools_chars if schemas else 0
        sent = self.fit.fit(messages, tools_chars)
        try:
            reply = yield from self._call(number, sent, kwargs)
        except APIStatusError as exc:
            if not is_prompt_too_long(exc):
                raise
            shorter = self.fit.fit(messages, tools_chars, force=True)
            if shorter == sent:
                raise
            sent = shorter
            reply = yield from self._call(number, sent, kwargs)
        self.steps += 1
        self.usage.add(reply.usage)
        self.fit.observe(sent, getattr(reply.usage, "prompt_tokens", None) if reply.usage else None)
        self.response = reply
        return reply

    def _learn_window(self) -> None:
        """The context window from the server's ``max_model_len`` (read once per client)."""
        if self.window_checked:
            return
        self.window_checked = True
        window = getattr(self.client, "context_window", None)
        if callable(window):
            try:
                value = window()
            except Exception:  # noqa: BLE001 (no /v1/models: no trimming, as without a window)
                value = None
            self.fit.window = value if isinstance(value, int) and value > 0 else None

    def _call(self, number: int, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Generator[Event, None, Any]:
        if self.telemetry is None:
            return (yield from self._model_call(number, messages, kwargs))
        span = self.telemetry.start_chat(messages)
        try:
            reply = yield from self._model_call(number, messages, kwargs)
        except BaseException as exc:
            self.telemetry.end_chat(span, None, exc)
            raise
        self.telemetry.end_chat(span, reply, None)
        return reply

    def _model_call(self, number: int, messages: list[dict[str, Any]],
                    kwargs: dict[str, Any]) -> Generator[Event, None, Any]:
        create = self.client.chat.completions.create
        if not self.options.stream:
            return create(model=self.model, messages=messages, **kwargs)
        stream = create(model=self.model, messages=messages, stream=True, **kwargs)
        with stream:  # closing the generator early closes the HTTP stream here
            names: dict[int, str] = {}
            arguments: dict[int, str] = {}
            for chunk in stream:
                for choice in chunk.choices or ():
                    if choice.index not in (0, None):
                        continue
                    yield from self._deltas(number, choice.delta, names, arguments)
            return stream.get_final_completion()

    def _deltas(self, number: int, delta: Any, names: dict[int, str], arguments: dict[int, str]) -> Iterator[Event]:
        if delta is None:
            return
        if delta.reasoning:
            yield ReasoningDelta(number, delta.reasoning)
        if delta.content:
            yield TextDelta(number, delta.content)
        for call in delta.tool_calls or ():
            index = call.index or 0
            function = call.function
            name = function.name if function is not None and function.name else None
            piece = function.arguments if function is not None and function.arguments else ""
            if name:
                names[index] = name
            yield ToolCallDelta(number, index, call.id, name, piece)
            if self.output is not None and names.get(index) == self.output.tool_name and piece:
                arguments[index] = arguments.get(index, "") + piece
                yield OutputDelta(number, arguments[index])

    # -- the parts of a step ----------------------------------------------------------------------------

    def _run_calls(self, calls: list[Any], number: int) -> Generator[Event, None, ToolCallRecord | None]:
        failed: ToolCallRecord | None = None
        limits = self.options.limits
        room = len(calls) if limits is None or limits.max_tool_calls is None else \
            max(0, limits.max_tool_calls - len(self.records))
        for event in self.runner.execute(calls[:room], number, self.messages, deadline=self.deadline):
            if isinstance(event, ToolResult):
                self.records.append(event.record)
                self.messages.append(event.record.message())
                if event.record.exception is not None and failed is None:
                    failed = event.record
            yield event
        for call in calls[room:]:  # past max_tool_calls: answered, not run
            assert limits is not None
            self._answer(call, f"Error: the limit of {limits.max_tool_calls} tool calls for this conversation is "
                               f"reached; {call.function.name} was not run. Answer with what you have.")
        return failed

    def _answer(self, call: Any, content: str) -> None:
        self.messages.append({"role": "tool", "tool_call_id": call.id, "content": content})

    def _answer_unrun(self, calls: list[Any]) -> None:
        for call in calls:
            self._answer(call, "Error: no more tool calls can run in this conversation; give the final answer.")

    def _take_output(self, calls: list[Any], step: _Step) -> Final | None:
        """The output tool was called: the value, or the problems fed back (and counted)."""
        spec = self.output
        assert spec is not None
        first, *others = calls
        for other in others:
            self._answer(other, "Error: only the first final_result call is read; this one was ignored.")
        try:
            value = spec.from_arguments(first.function.arguments)
        except ArgumentError as exc:
            self._answer(first, f"Error: {exc}\nCall {spec.tool_name} again with corrected arguments.")
            self._output_failed(exc)
            return None
        self._answer(first, OUTPUT_RECEIVED)
        return Final(self.result("output", value))

    def _output_failed(self, error: ArgumentError) -> None:
        self.output_failures += 1
        if self.output_failures > self.options.output_retries:
            raise OutputValidationError(f"the model's output did not fit {self.output.name if self.output else ''} "
                                        f"after {self.options.output_retries} correction(s): {error}",
                                        problems=error.problems)

    def _no_calls(self, step: _Step) -> Generator[Event, None, Final | None]:
        """An answer without tool calls: the final text, a typed output to read, or a reminder."""
        message = step.message
        if self.output is None:
            return self._finish_text(step)
        if self.output.strategy == "native":
            return (yield from self._native(step))
        try:
            value = self.output.from_text(message.content)
        except ArgumentError as exc:
            self._output_failed(exc)
            text = self.output.reminder() if self.output.strategy == "tool" else self.output.correction(exc)
            self.messages.append({"role": "user", "content": text})
            if step.final_call:  # no step left to correct it in
                raise OutputValidationError(f"the model gave no valid output before the run ended: {exc}",
                                            problems=exc.problems) from None
            return None
        return Final(self.result("output", value))

    def _native(self, step: _Step) -> Generator[Event, None, Final | None]:
        """Constrained decoding: one more call without tools, retried while its value is invalid."""
        spec = self.output
        assert spec is not None
        from .client import LightLLMClient

        constraint = spec.constraint(native_route=isinstance(self.client, LightLLMClient))
        while True:
            reply = yield from self.ask(step.number, [], "none", constraint=constraint)
            message = reply.choices[0].message
            self.messages.append(message.to_dict())
            yield ModelResponse(step.number, reply)
            try:
                return Final(self.result("output", spec.from_text(message.content)))
            except ArgumentError as exc:
                self._output_failed(exc)
                self.messages.append({"role": "user", "content": spec.correction(exc)})

    def _finish_text(self, step: _Step) -> Final:
        message = step.message
        content = message.content
        unrun: list[Any] = []
        if step.final_call and content and self.registry:
            content, unrun = self._strip_markup(content)
        if step.final_call:
            stop = "max_steps"
        elif step.forced and not message.tool_calls:
            stop = "required_unmet"
        else:
            finish = step.reply.choices[0].finish_reason or "stop"
            stop = "stop" if finish in ("stop", "tool_calls") else finish
        return Final(self.result(stop, content, unrun))

    def _strip_markup(self, content: str) -> tuple[str | None, list[Any]]:
        """Tool calls written into the final answer (no tools were offered): out of ``output``."""
        parser = getattr(self.client, "tool_parser", None)
        if not isinstance(parser, str):
            return content, []
        from .client import parse_tool_calls

        text, calls = parse_tool_calls(content, parser, tools=[t.schema for t in self.registry.values()])
        if not calls:
            return content, []
        return (text.strip() or None) if text else None, calls

    def close_transcript(self, content: str) -> None:
        """Answer every tool call of the last assistant message that has no result yet, so the
        transcript stays one a server accepts."""
        at = self.pending_at
        if at is None or at >= len(self.messages):
            return
        answered = {m.get("tool_call_id") for m in self.messages[at + 1:] if m.get("role") == "tool"}
        for call in self.messages[at].get("tool_calls") or ():
            if call.get("id") not in answered:
                self.messages.append({"role": "tool", "tool_call_id": call.get("id"), "content": content})
        self.pending_at = None


def _merge(kwargs: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``kwargs`` with ``extra`` added; ``extra_body`` dicts (and their ``parameters``) merged."""
    out = dict(kwargs)
    for key, value in extra.items():
        if key == "extra_body" and isinstance(out.get("extra_body"), Mapping):
            body = dict(out["extra_body"])
            for inner, inner_value in value.items():
                if inner == "parameters" and isinstance(body.get("parameters"), Mapping):
                    body["parameters"] = {**body["parameters"], **inner_value}
                else:
                    body[inner] = inner_value
            out["extra_body"] = body
        else:
            out[key] = value
    return out


def _loop(input: Any, tools: Iterable[Any], client: Any, model: str | None, system: str | None,
          extra_body: Mapping[str, Any] | None, where: str, options: _Options, sampling: dict[str, Any]) -> _Loop:
    _check_sampling(where, sampling)
    if extra_body is not None:
        sampling["extra_body"] = dict(extra_body)
    return _Loop(input, tools, client=client, model=model, system=system, options=options, sampling=sampling)


