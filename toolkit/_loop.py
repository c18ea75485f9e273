"""``run()``: call the model with tools, run the calls it makes, feed the results back, repeat.

The loop is a plain generator, ``iter_run``, that yields events as it goes; ``run`` consumes
it. Everything a model can get wrong (an unknown tool, bad JSON, wrong arguments, a tool that
raises, a call repeated in a loop) is sent back to the model as the tool's result, never
raised. Errors that do escape (the server failing, ``on_tool_error="raise"``) carry the run so
far as ``error.result``: pass ``error.result.messages`` back in to continue.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import Any, Union

from ._exceptions import ArgumentError, ToolExecutionError, ToolkitError
from ._results import DEFAULT_MAX_RESULT_CHARS, serialize_result
from .tool import RunContext, Tool
from .tool import tool as make_tool

__all__ = ["Event", "Final", "ModelResponse", "RunResult", "ToolCallRecord", "ToolCallRequest", "ToolCallStarted",
           "ToolResult", "Usage", "iter_run", "run", "run_many"]

REPEAT_LIMIT = 3
REQUIRED_REMINDER = "Reply by calling one of the tools (the tool_choice is 'required'); do not answer in text."
TOOL_CHOICES = ("auto", "none", "required")


@dataclasses.dataclass
class Usage:
    """Tokens summed over every model call of a run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, usage: Any) -> None:
        """Add a response's ``usage`` (None is skipped)."""
        if usage is None:
            return
        self.prompt_tokens += usage.prompt_tokens or 0
        self.completion_tokens += usage.completion_tokens or 0
        self.total_tokens += usage.total_tokens or 0


@dataclasses.dataclass
class ToolCallRecord:
    """One tool call of a run, as executed (or refused)."""

    id: str
    name: str
    #: The arguments after repair, validation and coercion, as the function received them
    #: (``{"days": 3}`` for ``days: int`` even when the model sent ``"3"``); None when they
    #: could not be read or did not fit the schema.
    arguments: dict[str, Any] | None
    #: What the function returned (None after an error).
    result: Any = None
    #: The text sent back to the model.
    content: str = ""
    #: Why the call failed or was refused (None on success).
    error: str | None = None
    seconds: float = 0.0
    step: int = 0
    started: float = 0.0
    finished: float = 0.0
    #: What the tool raised (kept for ``on_tool_error="raise"``).
    exception: BaseException | None = dataclasses.field(default=None, repr=False, compare=False)
    #: The arguments exactly as the model wrote them (a JSON string, before any repair).
    raw_arguments: str | None = None


@dataclasses.dataclass
class RunResult:
    """What a run did: the answer, the transcript, every tool call, tokens, and why it stopped."""

    #: The final assistant text (tool-call markup the model wrote in it is taken out).
    output: str | None
    #: The full transcript in OpenAI wire shape; pass it back in to continue the conversation.
    messages: list[dict[str, Any]]
    tool_calls: list[ToolCallRecord]
    #: Model calls made.
    steps: int
    usage: Usage
    #: "stop", "length", "max_steps", "required_unmet" (tool_choice="required" and the model
    #: never called a tool), "error", or a finish_reason the server sent.
    stop_reason: str
    #: The last model response.
    response: Any = None
    #: Tool calls the model wrote in its final answer that were not run (the final call of
    #: ``max_steps`` offers no tools); their markup stays in the transcript, not in ``output``.
    unrun_tool_calls: list[Any] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ModelResponse:
    """A model call finished: ``response`` is its ``ChatCompletion``."""

    type = "model_response"
    step: int
    response: Any


@dataclasses.dataclass
class ToolCallStarted:
    """A tool call is about to run (or be refused); ``arguments`` is its JSON text."""

    type = "tool_call"
    step: int
    id: str
    name: str
    arguments: str


@dataclasses.dataclass
class ToolResult:
    """A tool call finished (or was refused): its record, as sent back to the model."""

    type = "tool_result"
    step: int
    record: ToolCallRecord


@dataclasses.dataclass
class Final:
    """The run ended: ``result`` is the ``RunResult``."""

    type = "final"
    result: RunResult


#: Everything ``iter_run`` yields.
Event = Union[ModelResponse, ToolCallStarted, ToolResult, Final]


@dataclasses.dataclass
class ToolCallRequest:
    """What ``approve`` sees: the call about to run."""

    id: str
    name: str
    arguments: dict[str, Any]
    step: int


def _tool_list(tools: Iterable[Any]) -> dict[str, Tool]:
    out: dict[str, Tool] = {}
    for item in tools or ():
        t = item if isinstance(item, Tool) else make_tool(item) if callable(item) else None
        if t is None:
            raise ValueError(f"run() needs Tool objects or callables to execute, got {type(item).__name__}")
        t.check_callable()
        if t.name in out:
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

    def check(self, tools: Mapping[str, Tool]) -> None:
        _positive_int("max_steps", self.max_steps)
        _positive_int("max_result_chars", self.max_result_chars)
        _positive_int("max_workers", self.max_workers)
        if self.on_tool_error not in ("feed", "raise"):
            raise ValueError(f"on_tool_error must be 'feed' (tell the model) or 'raise', got {self.on_tool_error!r}")
        if self.approve is not None and not callable(self.approve):
            raise TypeError(f"approve must be a callable taking a ToolCallRequest, got {type(self.approve).__name__}")
        _check_tool_choice(self.tool_choice, tools)


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


def _check_sampling(where: str, sampling: Mapping[str, Any]) -> None:
    from .client._client import SAMPLING_PARAMS, unknown_keyword

    for name in sampling:
        if name not in SAMPLING_PARAMS:
            raise unknown_keyword(where, name, SAMPLING_PARAMS | set(_RUN_OPTIONS))


_RUN_OPTIONS = ("client", "model", "system", "extra_body", *(f.name for f in dataclasses.fields(_Options)))


class _UserCallbackError(ToolkitError):
    """A callback the user gave (``approve=``) raised; the cause is chained."""


class _Runner:
    """Prepares and executes the tool calls of one model answer."""

    def __init__(self, tools: dict[str, Tool], options: _Options) -> None:
        self.tools = tools
        self.options = options
        self.history: list[str] = []  # keys of executed calls, for loop detection

    def prepare(self, call: Any, step: int, messages: list[dict[str, Any]]) -> tuple[ToolCallRecord, Callable[[], Any] | None]:
        """Look up, repair, validate and approve one call: a record, and the work to run (or None)."""
        name, raw = call.function.name, call.function.arguments
        record = ToolCallRecord(id=call.id, name=name, arguments=None, step=step,
                                raw_arguments=raw if isinstance(raw, str) or raw is None else json.dumps(raw))
        target = self.tools.get(name)
        if target is None:
            known = ", ".join(sorted(self.tools)) or "none"
            return self._refuse(record, f"there is no tool named {name!r}. Available tools: {known}."), None
        try:
            arguments, repaired = target.read_arguments(raw)
        except ArgumentError as exc:
            return self._refuse(record, f"{exc.problems[0][1]}. Call {name} again with valid JSON arguments."), None
        if repaired:
            call.function.arguments = json.dumps(arguments, ensure_ascii=False)
        if self.options.approve is not None:
            decision = self._approve(ToolCallRequest(call.id, name, dict(arguments), step))
            if decision is False or decision is None:
                return self._refuse(record, f"the call to {name} was not approved by the user; do not retry it."), None
            if isinstance(decision, Mapping):
                arguments = dict(decision)
                call.function.arguments = json.dumps(arguments, ensure_ascii=False)
        try:
            values = target.parse_arguments(arguments)
        except ArgumentError as exc:
            return self._refuse(record, f"{exc}\nCall {name} again with corrected arguments."), None
        record.arguments = values
        key = name + "\x00" + json.dumps(arguments, sort_keys=True, default=str)
        if self.history[-(REPEAT_LIMIT - 1):] == [key] * (REPEAT_LIMIT - 1):
            return self._refuse(record, f"{name} was already called {REPEAT_LIMIT - 1} times in a row with these "
                                        f"same arguments; use the results you have or try something else."), None
        self.history.append(key)
        run_context = RunContext(self.options.context, messages=list(messages), tool_call_id=call.id, step=step)
        return record, lambda: self._work(target, record, values, run_context)

    def _approve(self, request: ToolCallRequest) -> Any:
        try:
            return self.options.approve(request)  # type: ignore[misc]
        except Exception as exc:
            raise _UserCallbackError(f"the approve callback raised {type(exc).__name__}: {exc}") from exc

    def _work(self, target: Tool, record: ToolCallRecord, values: dict[str, Any], run_context: RunContext[Any]) -> None:
        record.started = time.perf_counter()
        try:
            record.result = target.call_with(values, context=self.options.context, run_context=run_context)
            # serialised here so that a result that cannot be (a cycle, a huge int) is this call's error
            record.content = serialize_result(record.result, self.options.max_result_chars)
        except Exception as exc:  # a tool that raises: the model is told, no traceback
            record.error = f"{type(exc).__name__}: {_short(exc)}"
            record.content = f"Error: {record.name} raised {record.error}"
            record.result = None
            record.exception = exc
        record.finished = time.perf_counter()
        record.seconds = record.finished - record.started

    @staticmethod
    def _refuse(record: ToolCallRecord, message: str) -> ToolCallRecord:
        record.error = message
        record.content = f"Error: {message}"
        return record

    def execute(self, calls: list[Any], step: int, messages: list[dict[str, Any]]) -> Iterator[Event]:
        """Run every call (concurrently where allowed) and yield the events, results in call order.

        Every call that starts is waited for and yielded, also with ``on_tool_error="raise"``:
        the caller records each one before the error is raised.
        """
        prepared = [self.prepare(call, step, messages) for call in calls]
        for (record, _), call in zip(prepared, calls):
            yield ToolCallStarted(step, record.id, record.name, call.function.arguments or "")
        concurrent_work = [(r, w) for r, w in prepared if w is not None and self.options.parallel
                           and self.tools[r.name].parallel]
        futures: dict[int, concurrent.futures.Future[Any]] = {}
        pool = None
        if len(concurrent_work) > 1:
            pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=min(self.options.max_workers, len(concurrent_work)), thread_name_prefix="toolkit-tool")
            futures = {id(r): pool.submit(w) for r, w in concurrent_work}
        try:
            for record, work in prepared:
                if work is not None:
                    future = futures.get(id(record))
                    future.result() if future is not None else work()
                yield ToolResult(step, record)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)


def _short(exc: BaseException, limit: int = 2000) -> str:
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ itself fails
        text = repr(type(exc))
    return text if len(text) <= limit else text[:limit] + "..."


class _Loop:
    """One run: the state, and one method per part of a step."""

    def __init__(self, input: Any, tools: Iterable[Any], *, client: Any, model: str | None, system: str | None,
                 options: _Options, sampling: dict[str, Any]) -> None:
        self.registry = _tool_list(tools)
        options.check(self.registry)
        self.options = options
        self.schemas = [t.schema for t in self.registry.values()]
        self.messages = _start_messages(input, system)
        self.runner = _Runner(self.registry, options)
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

    def result(self, stop_reason: str, output: str | None = None, unrun: list[Any] | None = None) -> RunResult:
        return RunResult(output=output, messages=self.messages, tool_calls=self.records, steps=self.steps,
                         usage=self.usage, stop_reason=stop_reason, response=self.response,
                         unrun_tool_calls=unrun or [])

    def events(self) -> Iterator[Event]:
        try:
            for step in range(1, self.options.max_steps + 2):
                final = yield from self.step(step, final_call=step > self.options.max_steps)
                if final is not None:
                    yield final
                    return
        except BaseException as exc:
            # whatever escapes (an APIError, a callback's error, Ctrl-C) carries a transcript the
            # server accepts: unanswered calls of the last answer are answered with an error
            self.close_transcript(f"Error: the call was not run ({type(exc).__name__})")
            try:
                exc.result = self.result("error")  # type: ignore[attr-defined]
            except AttributeError:  # an exception type with __slots__: nothing to attach to
                pass
            raise
        finally:
            if self.owns_client:
                self.client.close()

    def ask(self, choice: Any, extra: Iterable[dict[str, Any]] = ()) -> Any:
        kwargs = dict(self.sampling)
        if self.schemas:
            kwargs["tools"] = self.schemas
            kwargs["tool_choice"] = choice
        reply = self.client.chat.completions.create(model=self.model, messages=self.messages + list(extra),
                                                    **kwargs)
        self.steps += 1
        self.usage.add(reply.usage)
        self.response = reply
        return reply

    def step(self, step: int, *, final_call: bool) -> Generator[Event, None, Final | None]:
        """One model call and the tool calls it makes; returns the Final event when the run ends."""
        reply = self.ask("none" if final_call else self.choice)
        message = reply.choices[0].message
        forced = self.choice == "required" or isinstance(self.choice, Mapping)
        if not message.tool_calls and forced and not final_call:
            reply = self.ask(self.choice, [{"role": "user", "content": REQUIRED_REMINDER}])  # one reminder
            message = reply.choices[0].message
        assistant_at = len(self.messages)
        self.messages.append(message.to_dict())
        yield ModelResponse(step, reply)
        if final_call or not message.tool_calls:
            return self.finish(reply, message, final_call=final_call, forced=forced)
        self.pending_at = assistant_at
        failed: ToolCallRecord | None = None
        for event in self.runner.execute(message.tool_calls, step, self.messages):
            if isinstance(event, ToolResult):
                self.records.append(event.record)
                self.messages.append({"role": "tool", "tool_call_id": event.record.id,
                                      "content": event.record.content})
                if event.record.exception is not None and failed is None:
                    failed = event.record
            yield event
        self.pending_at = None
        # the repaired / replaced arguments become the stored call, as valid JSON
        self.messages[assistant_at] = message.to_dict()
        if failed is not None and self.options.on_tool_error == "raise":
            error = ToolExecutionError(f"tool {failed.name} raised {failed.error}", tool=failed.name,
                                       call_id=failed.id)
            raise error from failed.exception
        if forced:
            self.choice = "auto"  # a forced choice is spent once a tool ran, so the loop cannot spin
        return None

    def finish(self, reply: Any, message: Any, *, final_call: bool, forced: bool) -> Final:
        content = message.content
        unrun: list[Any] = []
        if final_call and content and self.schemas:
            content, unrun = self._strip_markup(content)
        if final_call:
            stop = "max_steps"
        elif forced and not message.tool_calls:
            stop = "required_unmet"
        else:
            finish = reply.choices[0].finish_reason or "stop"
            stop = "stop" if finish in ("stop", "tool_calls") else finish
        return Final(self.result(stop, content, unrun))

    def _strip_markup(self, content: str) -> tuple[str | None, list[Any]]:
        """Tool calls written into the final answer (no tools were offered): out of ``output``."""
        parser = getattr(self.client, "tool_parser", None)
        if not isinstance(parser, str):
            return content, []
        from .client import parse_tool_calls

        text, calls = parse_tool_calls(content, parser, tools=self.schemas)
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


def iter_run(input: Any, tools: Iterable[Any] = (), *, client: Any = None, model: str | None = None,
             system: str | None = None, max_steps: int = 10, parallel: bool = True, tool_choice: Any = "auto",
             context: Any = None, approve: Callable[[ToolCallRequest], Any] | None = None,
             on_tool_error: str = "feed", max_result_chars: int = DEFAULT_MAX_RESULT_CHARS, max_workers: int = 8,
             extra_body: Mapping[str, Any] | None = None, **sampling: Any) -> Iterator[Event]:
    """The loop as a generator of events: ``ModelResponse``, ``ToolCallStarted``, ``ToolResult``
    and, last, ``Final`` (whose ``result`` is the ``RunResult``). Arguments as for ``run``.

    Options are checked when this is called, before any request is sent."""
    _check_sampling("iter_run()", sampling)
    if extra_body is not None:
        sampling["extra_body"] = dict(extra_body)
    options = _Options(max_steps=max_steps, parallel=parallel, tool_choice=tool_choice, context=context,
                       approve=approve, on_tool_error=on_tool_error, max_result_chars=max_result_chars,
                       max_workers=max_workers)
    loop = _Loop(input, tools, client=client, model=model, system=system, options=options, sampling=sampling)
    return loop.events()


def run(input: Any, tools: Iterable[Any] = (), *, client: Any = None, model: str | None = None,
        system: str | None = None, max_steps: int = 10, parallel: bool = True, tool_choice: Any = "auto",
        context: Any = None, approve: Callable[[ToolCallRequest], Any] | None = None,
        on_tool_error: str = "feed", max_result_chars: int = DEFAULT_MAX_RESULT_CHARS, max_workers: int = 8,
        extra_body: Mapping[str, Any] | None = None, **sampling: Any) -> RunResult:
    """Run the tool-calling loop to the model's final answer.

    Args:
        input: A prompt string, or a list of messages (e.g. ``result.messages`` to continue).
        tools: ``@tool`` functions or plain callables; only these can be called.
        client: A ``LightLLMClient`` or ``OpenAICompatibleClient`` (default: a LightLLMClient
            from ``LIGHTLLM_BASE_URL``, or http://localhost:8000).
        model: The model name sent to the server.
        system: A system message put first.
        max_steps: The most model calls that may use tools; past it, one more call with
            ``tool_choice="none"`` asks for the final answer (``stop_reason="max_steps"``).
        parallel: Run several calls of one answer concurrently (``@tool(parallel=False)`` opts out).
        tool_choice: "auto", "none", "required" (enforced here: one reminder) or a named tool.
        context: The value ``RunContext`` / ``Injected`` parameters receive.
        approve: Called with a ``ToolCallRequest`` before each call: True runs it, False/None
            refuses it, a dict replaces the arguments.
        on_tool_error: "feed" (the model is told) or "raise" (``ToolExecutionError`` once every
            call of that answer has finished and been recorded).
        max_result_chars: Longest tool result sent back (longer ones are cut with a marker).
        max_workers: Most tool calls of one answer run at once.
        extra_body: Server-specific fields sent with every model call, as they are.
        **sampling: temperature, top_p, top_k, max_tokens, stop, seed, penalties, ... and
            ``extra_body={...}`` for server-specific fields; an unknown keyword is a ``TypeError``.

    Raises:
        ValueError / TypeError: an option is invalid (before any request).
        APIError: the server failed; ``error.result`` holds the run so far.
        ToolExecutionError: a tool raised and ``on_tool_error="raise"``; ``error.result`` too.
        ToolkitError: a callback of yours (``approve``) raised; the cause is chained, ``.result`` set.
    """
    _check_sampling("run()", sampling)
    for event in iter_run(input, tools, client=client, model=model, system=system, max_steps=max_steps,
                          parallel=parallel, tool_choice=tool_choice, context=context, approve=approve,
                          on_tool_error=on_tool_error, max_result_chars=max_result_chars, max_workers=max_workers,
                          extra_body=extra_body, **sampling):
        if isinstance(event, Final):
            return event.result
    raise AssertionError("iter_run ended without a final event")  # pragma: no cover


def run_many(inputs: Iterable[Any], tools: Iterable[Any] = (), *, client: Any = None, max_workers: int = 8,
             return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
    """Run many conversations on threads sharing one client; results in input order.

    With ``return_exceptions=True`` a failed conversation gives its exception (with
    ``.result``) in its place; otherwise the first failure is raised after all have finished.
    The client's connection pool is grown to ``max_workers`` so that no connection is discarded.
    Other keywords are ``run()``'s, checked before anything starts.
    """
    from .client import LightLLMClient

    _positive_int("max_workers", max_workers)
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in _RUN_OPTIONS}
    _check_sampling("run_many()", kwargs)
    tool_list = list(tools)
    _Options(**{k: v for k, v in options.items() if k in _OPTION_FIELDS}).check(_tool_list(tool_list))
    owns = client is None
    client = client or LightLLMClient(pool_maxsize=max(max_workers, 32))
    transport = getattr(client, "_transport", None)
    if transport is not None:
        transport.ensure_pool(max_workers)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="toolkit-run") as pool:
            futures = [pool.submit(run, item, tool_list, client=client, **options, **kwargs) for item in inputs]
            concurrent.futures.wait(futures)
        results = []
        for future in futures:
            error = future.exception()
            if error is not None and not return_exceptions:
                raise error
            results.append(error if error is not None else future.result())
        return results
    finally:
        if owns:
            client.close()


_OPTION_FIELDS = {f.name for f in dataclasses.fields(_Options)}
