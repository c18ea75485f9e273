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
from typing import Any, Callable, Iterable, Iterator, Mapping

from ._exceptions import ArgumentError, ToolExecutionError, ToolkitError
from ._results import DEFAULT_MAX_RESULT_CHARS, serialize_result
from .tool import RunContext, Tool, tool as make_tool

__all__ = ["Final", "ModelResponse", "RunResult", "ToolCallRecord", "ToolCallStarted", "ToolResult", "iter_run",
           "run", "run_many"]

REPEAT_LIMIT = 3
REQUIRED_REMINDER = "Reply by calling one of the tools (the tool_choice is 'required'); do not answer in text."


@dataclasses.dataclass
class Usage:
    """Tokens summed over every model call of a run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, usage: Any) -> None:
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
    #: The arguments after repair and validation (None when they could not be read).
    arguments: dict | None
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


@dataclasses.dataclass
class RunResult:
    #: The final assistant text.
    output: str | None
    #: The full transcript in OpenAI wire shape; pass it back in to continue the conversation.
    messages: list[dict]
    tool_calls: list[ToolCallRecord]
    #: Model calls made.
    steps: int
    usage: Usage
    #: "stop", "length", "max_steps", "error", or a finish_reason the server sent.
    stop_reason: str
    #: The last model response.
    response: Any = None


@dataclasses.dataclass
class ModelResponse:
    type = "model_response"
    step: int
    response: Any


@dataclasses.dataclass
class ToolCallStarted:
    type = "tool_call"
    step: int
    id: str
    name: str
    arguments: str


@dataclasses.dataclass
class ToolResult:
    type = "tool_result"
    step: int
    record: ToolCallRecord


@dataclasses.dataclass
class Final:
    type = "final"
    result: RunResult


@dataclasses.dataclass
class ToolCallRequest:
    """What ``approve`` sees: the call about to run."""

    id: str
    name: str
    arguments: dict
    step: int


def _tool_list(tools: Iterable[Any]) -> dict[str, Tool]:
    out: dict[str, Tool] = {}
    for item in tools or ():
        t = item if isinstance(item, Tool) else make_tool(item) if callable(item) else None
        if t is None:
            raise ValueError(f"run() needs Tool objects or callables to execute, got {type(item).__name__}")
        if t.name in out:
            raise ValueError(f"two tools are named {t.name!r}; give one another name with @tool(name=...)")
        out[t.name] = t
    return out


def _start_messages(input: Any, system: str | None) -> list[dict]:
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


class _Runner:
    def __init__(self, tools: dict[str, Tool], *, parallel: bool, context: Any, approve: Callable | None,
                 on_tool_error: str, max_result_chars: int, max_workers: int) -> None:
        self.tools = tools
        self.parallel = parallel
        self.context = context
        self.approve = approve
        self.on_tool_error = on_tool_error
        self.max_result_chars = max_result_chars
        self.max_workers = max_workers
        self.history: list[str] = []  # keys of executed calls, for loop detection

    def prepare(self, call: Any, step: int, messages: list[dict]) -> tuple[ToolCallRecord, Callable | None]:
        """Look up, repair, validate and approve one call: a record, and the work to run (or None)."""
        name, raw = call.function.name, call.function.arguments
        record = ToolCallRecord(id=call.id, name=name, arguments=None, step=step)
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
        if self.approve is not None:
            decision = self.approve(ToolCallRequest(call.id, name, dict(arguments), step))
            if decision is False or decision is None:
                return self._refuse(record, f"the call to {name} was not approved by the user; do not retry it."), None
            if isinstance(decision, Mapping):
                arguments = dict(decision)
                call.function.arguments = json.dumps(arguments, ensure_ascii=False)
        try:
            values = target.parse_arguments(arguments)
        except ArgumentError as exc:
            record.arguments = arguments
            return self._refuse(record, f"{exc}\nCall {name} again with corrected arguments."), None
        record.arguments = arguments
        key = name + "\x00" + json.dumps(arguments, sort_keys=True, default=str)
        if self.history[-(REPEAT_LIMIT - 1):] == [key] * (REPEAT_LIMIT - 1):
            return self._refuse(record, f"{name} was already called {REPEAT_LIMIT - 1} times in a row with these "
                                        f"same arguments; use the results you have or try something else."), None
        self.history.append(key)
        run_context = RunContext(self.context, messages=list(messages), tool_call_id=call.id, step=step)

        def work() -> ToolCallRecord:
            record.started = time.perf_counter()
            try:
                record.result = target.call_with(values, context=self.context, run_context=run_context)
            except Exception as exc:  # a tool that raises: the model is told, no traceback
                record.error = f"{type(exc).__name__}: {exc}"
                record.content = f"Error: {name} raised {record.error}"
                record.exception = exc
            else:
                record.content = serialize_result(record.result, self.max_result_chars)
            record.finished = time.perf_counter()
            record.seconds = record.finished - record.started
            return record

        return record, work

    @staticmethod
    def _refuse(record: ToolCallRecord, message: str) -> ToolCallRecord:
        record.error = message
        record.content = f"Error: {message}"
        return record

    def execute(self, calls: list, step: int, messages: list[dict]) -> Iterator[Any]:
        prepared = [self.prepare(call, step, messages) for call in calls]
        for record, _ in prepared:
            yield ToolCallStarted(step, record.id, record.name,
                                  json.dumps(record.arguments, ensure_ascii=False) if record.arguments is not None
                                  else "")
        concurrent_work = [(r, w) for r, w in prepared if w is not None and self.parallel
                           and self.tools[r.name].parallel]
        futures = {}
        pool = None
        if len(concurrent_work) > 1:
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(self.max_workers, len(concurrent_work)),
                                                         thread_name_prefix="toolkit-tool")
            futures = {id(r): pool.submit(w) for r, w in concurrent_work}
        try:
            for record, work in prepared:
                if work is not None:
                    future = futures.get(id(record))
                    future.result() if future is not None else work()
                if record.exception is not None and self.on_tool_error == "raise":
                    error = ToolExecutionError(f"tool {record.name} raised {record.error}", tool=record.name,
                                               call_id=record.id)
                    raise error from record.exception
                yield ToolResult(step, record)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)


def iter_run(input: Any, tools: Iterable[Any] = (), *, client: Any = None, model: str | None = None,
             system: str | None = None, max_steps: int = 10, parallel: bool = True, tool_choice: Any = "auto",
             context: Any = None, approve: Callable[[ToolCallRequest], Any] | None = None,
             on_tool_error: str = "feed", max_result_chars: int = DEFAULT_MAX_RESULT_CHARS, max_workers: int = 8,
             **sampling: Any) -> Iterator[Any]:
    """The loop as a generator of events: ``ModelResponse``, ``ToolCallStarted``, ``ToolResult``
    and, last, ``Final`` (whose ``result`` is the ``RunResult``). Arguments as for ``run``."""
    if max_steps < 1:
        raise ValueError("max_steps must be >= 1")
    if on_tool_error not in ("feed", "raise"):
        raise ValueError("on_tool_error must be 'feed' (tell the model) or 'raise'")
    registry = _tool_list(tools)
    schemas = [t.schema for t in registry.values()]
    messages = _start_messages(input, system)
    runner = _Runner(registry, parallel=parallel, context=context, approve=approve, on_tool_error=on_tool_error,
                     max_result_chars=max_result_chars, max_workers=max_workers)
    owns_client = client is None
    if owns_client:
        from .client import LightLLMClient

        client = LightLLMClient()
    records: list[ToolCallRecord] = []
    usage = Usage()
    steps = 0
    response = None
    choice = tool_choice

    def snapshot(stop_reason: str, output: str | None = None) -> RunResult:
        return RunResult(output=output, messages=messages, tool_calls=records, steps=steps, usage=usage,
                         stop_reason=stop_reason, response=response)

    def ask(current_choice: Any, extra: list[dict] = ()) -> Any:
        nonlocal steps, response
        kwargs = dict(sampling)
        if schemas:
            kwargs["tools"] = schemas
            kwargs["tool_choice"] = current_choice
        try:
            reply = client.chat.completions.create(model=model, messages=messages + list(extra), **kwargs)
        except ToolkitError as exc:
            exc.result = snapshot("error")
            raise
        steps += 1
        usage.add(reply.usage)
        response = reply
        return reply

    try:
        for step in range(1, max_steps + 2):
            final_call = step > max_steps
            reply = ask("none" if final_call else choice)
            message = reply.choices[0].message
            forced = choice == "required" or isinstance(choice, Mapping)
            if not message.tool_calls and forced and not final_call:
                reply = ask(choice, [{"role": "user", "content": REQUIRED_REMINDER}])  # one reminder
                message = reply.choices[0].message
            assistant_at = len(messages)
            messages.append(message.to_dict())
            yield ModelResponse(step, reply)
            if final_call or not message.tool_calls:
                finish = reply.choices[0].finish_reason or "stop"
                stop = "max_steps" if final_call else ("stop" if finish in ("stop", "tool_calls") else finish)
                yield Final(snapshot(stop, message.content))
                return
            try:
                for event in runner.execute(message.tool_calls, step, messages):
                    if isinstance(event, ToolResult):
                        records.append(event.record)
                        messages.append({"role": "tool", "tool_call_id": event.record.id,
                                         "content": event.record.content})
                    yield event
            except ToolkitError as exc:
                exc.result = snapshot("error")
                raise
            # the repaired / replaced arguments become the stored call, as valid JSON
            messages[assistant_at] = message.to_dict()
            if choice == "required" or isinstance(choice, Mapping):
                choice = "auto"  # a forced choice is spent once a tool ran, so the loop cannot spin
    finally:
        if owns_client:
            client.close()


def run(input: Any, tools: Iterable[Any] = (), *, client: Any = None, model: str | None = None,
        system: str | None = None, max_steps: int = 10, parallel: bool = True, tool_choice: Any = "auto",
        **kwargs: Any) -> RunResult:
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
        **kwargs: ``context=`` (for ``RunContext`` / ``Injected`` parameters), ``approve=``,
            ``on_tool_error="feed"|"raise"``, ``max_result_chars=``, ``max_workers=``, and sampling
            parameters (temperature, max_tokens, ...).

    Raises:
        APIError: the server failed; ``error.result`` holds the run so far.
        ToolExecutionError: a tool raised and ``on_tool_error="raise"``; ``error.result`` too.
    """
    for event in iter_run(input, tools, client=client, model=model, system=system, max_steps=max_steps,
                          parallel=parallel, tool_choice=tool_choice, **kwargs):
        if isinstance(event, Final):
            return event.result
    raise AssertionError("iter_run ended without a final event")  # pragma: no cover


def run_many(inputs: Iterable[Any], tools: Iterable[Any] = (), *, client: Any = None, max_workers: int = 8,
             return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
    """Run many conversations on threads sharing one client; results in input order.

    With ``return_exceptions=True`` a failed conversation gives its exception (with
    ``.result``) in its place; otherwise the first failure is raised after all have finished.
    """
    from .client import LightLLMClient

    owns = client is None
    client = client or LightLLMClient()
    tool_list = list(tools)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="toolkit-run") as pool:
            futures = [pool.submit(run, item, tool_list, client=client, **kwargs) for item in inputs]
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
