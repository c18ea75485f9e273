"""Running the tool calls of one model answer: look up, repair, validate, approve, call.

Calls run in daemon threads when they may run concurrently or have a timeout, so that a tool
that hangs can be abandoned (Python cannot kill a thread: its late result is discarded) and
Ctrl-C returns at once. A single call without a timeout runs in the caller's thread.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._events import Event, ToolCallRecord, ToolCallRequest, ToolCallStarted, ToolResult
from ._exceptions import ArgumentError, ToolkitError, ToolRetry
from ._results import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_RESULT_CHARS, tool_content
from .tool import RunContext, Tool

__all__ = ["CallbackError", "ExecOptions", "Runner"]

REPEAT_LIMIT = 3


class CallbackError(ToolkitError):
    """A callback the user gave (``approve=``, ``on_event=``, ``prepare_tools=``) raised; the cause is chained."""


@dataclasses.dataclass
class ExecOptions:
    parallel: bool = True
    context: Any = None
    approve: Callable[[ToolCallRequest], Any] | None = None
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS
    max_workers: int = 8
    tool_timeout: float | None = None
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES


class _Job:
    """One call running in a worker: its outcome is copied to the record only if it finished in time."""

    __slots__ = ("done", "exception", "finished", "result", "started")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.exception: BaseException | None = None
        self.started = 0.0
        self.finished = 0.0


class Runner:
    """Prepares and executes the tool calls of one model answer, for the whole run."""

    def __init__(self, tools: dict[str, Tool], options: ExecOptions) -> None:
        self.tools = tools
        self.options = options
        self.history: list[str] = []  # keys of executed calls, for loop detection
        self.calls: dict[str, int] = {}  # calls started per tool
        self.retries: dict[str, int] = {}  # ToolRetry requests per tool
        self.shown: set[str] | None = None  # tools offered in this step (None: all)

    # -- preparing ----------------------------------------------------------------------------------

    def prepare(self, call: Any, step: int, messages: list[dict[str, Any]]) -> tuple[ToolCallRecord, Tool | None,
                                                                                     dict[str, Any]]:
        """Look up, repair, validate and approve one call: its record, and the tool and values to
        call it with (tool None when the call was refused; the record then says why)."""
        name, raw = call.function.name, call.function.arguments
        record = ToolCallRecord(id=call.id, name=name, arguments=None, step=step,
                                raw_arguments=raw if isinstance(raw, str) or raw is None else json.dumps(raw))
        target = self.tools.get(name)
        if target is None or (self.shown is not None and name not in self.shown):
            known = ", ".join(sorted(self.shown if self.shown is not None else self.tools)) or "none"
            return refuse(record, f"there is no tool named {name!r}. Available tools: {known}."), None, {}
        try:
            arguments, repaired = target.read_arguments(raw)
        except ArgumentError as exc:
            message = f"{exc.problems[0][1]}. Call {name} again with valid JSON arguments."
            return refuse(record, message), None, {}
        if repaired:
            call.function.arguments = json.dumps(arguments, ensure_ascii=False)
        if self.options.approve is not None:
            decision = self._approve(ToolCallRequest(call.id, name, dict(arguments), step))
            if decision is False or decision is None:
                message = f"the call to {name} was not approved by the user; do not retry it."
                return refuse(record, message), None, {}
            if isinstance(decision, Mapping):
                arguments = dict(decision)
                call.function.arguments = json.dumps(arguments, ensure_ascii=False)
        try:
            values = target.parse_arguments(arguments)
        except ArgumentError as exc:
            return refuse(record, f"{exc}\nCall {name} again with corrected arguments."), None, {}
        record.arguments = values
        refused = self._refusal(target, name, arguments)
        if refused is not None:
            return refuse(record, refused), None, {}
        self.calls[name] = self.calls.get(name, 0) + 1
        values = dict(values)
        values["\x00run_context"] = RunContext(self.options.context, messages=list(messages), tool_call_id=call.id,
                                               step=step)
        return record, target, values

    def _refusal(self, target: Tool, name: str, arguments: dict[str, Any]) -> str | None:
        """Why a valid call is refused (a repeated call, a spent max_calls), or None."""
        if target.max_calls is not None and self.calls.get(name, 0) >= target.max_calls:
            return (f"{name} may be called at most {target.max_calls} time(s) in this conversation and that is "
                    f"spent; do not call it again, use the results you have.")
        key = name + "\x00" + json.dumps(arguments, sort_keys=True, default=str)
        if self.history[-(REPEAT_LIMIT - 1):] == [key] * (REPEAT_LIMIT - 1):
            return (f"{name} was already called {REPEAT_LIMIT - 1} times in a row with these same arguments; use "
                    f"the results you have or try something else.")
        self.history.append(key)
        return None

    def _approve(self, request: ToolCallRequest) -> Any:
        approve = self.options.approve
        assert approve is not None
        try:
            return approve(request)
        except Exception as exc:
            raise CallbackError(f"the approve callback raised {type(exc).__name__}: {exc}") from exc

    # -- running -----------------------------------------------------------------------------------

    def _call(self, target: Tool, values: dict[str, Any], job: _Job) -> None:
        job.started = time.monotonic()
        run_context = values.pop("\x00run_context", None)
        try:
            job.result = target.call_with(values, context=self.options.context, run_context=run_context)
        except BaseException as exc:  # noqa: BLE001 (reported to the model, or re-raised by the caller)
            job.exception = exc
        job.finished = time.monotonic()
        job.done.set()

    def _settle(self, record: ToolCallRecord, target: Tool, job: _Job) -> None:
        """Copy a finished job's outcome into the record: content, or the error the model sees."""
        record.started, record.finished = job.started, job.finished
        record.seconds = job.finished - job.started
        exc = job.exception
        if exc is None:
            try:  # serialised here so that a result that cannot be (a cycle) is this call's error
                record.result = job.result
                record.content, record.parts = tool_content(job.result, self.options.max_result_chars,
                                                            self.options.max_image_bytes)
                return
            except Exception as serialise_error:  # noqa: BLE001
                exc = serialise_error
                record.result = None
        if isinstance(exc, ToolRetry):
            self._retry(record, target, exc)
            return
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit inside a tool
            raise exc
        record.error = f"{type(exc).__name__}: {short(exc)}"
        record.content = f"Error: {record.name} raised {record.error}"
        record.exception = exc

    def _retry(self, record: ToolCallRecord, target: Tool, exc: ToolRetry) -> None:
        count = self.retries[record.name] = self.retries.get(record.name, 0) + 1
        message = short(exc) or f"{record.name} asks to be called again with other arguments"
        if count <= target.max_retries:
            record.content = message
            return
        record.error = f"ToolRetry: {message}"
        record.content = (f"Error: {record.name} asked for a retry more than {target.max_retries} time(s); stop "
                          f"retrying it and answer with what you have. Its last message: {message}")

    def execute(self, calls: list[Any], step: int, messages: list[dict[str, Any]], *,
                deadline: float | None = None) -> Iterator[Event]:
        """Run every call (concurrently where allowed) and yield the events, results in call order.

        Every call that starts is waited for (up to its timeout and the run's deadline) and
        yielded, so the caller can record each one before raising anything.
        """
        prepared = [self.prepare(call, step, messages) for call in calls]
        for (record, _, _), call in zip(prepared, calls):
            yield ToolCallStarted(step, record.id, record.name, call.function.arguments or "")
        runnable = [(r, t, v) for r, t, v in prepared if t is not None]
        inline = len(runnable) == 1 and self._timeout(runnable[0][1]) is None and deadline is None
        jobs = self._start(runnable, inline)
        for record, target, _ in prepared:
            if target is not None:
                job = jobs[id(record)]
                if not inline:
                    self._wait(record, target, job, deadline)
                if job.done.is_set() and not record.timed_out:
                    self._settle(record, target, job)
            yield ToolResult(step, record)

    def _timeout(self, target: Tool) -> float | None:
        return target.timeout if target.timeout is not None else self.options.tool_timeout

    def _start(self, runnable: list[tuple[ToolCallRecord, Tool, dict[str, Any]]], inline: bool) -> dict[int, _Job]:
        jobs: dict[int, _Job] = {}
        if inline:
            record, target, values = runnable[0]
            job = jobs[id(record)] = _Job()
            self._call(target, values, job)
            return jobs
        concurrent = [item for item in runnable if self.options.parallel and item[1].parallel]
        serial = [item for item in runnable if item not in concurrent]
        slots = threading.BoundedSemaphore(self.options.max_workers)

        def worker(items: list[tuple[ToolCallRecord, Tool, dict[str, Any]]], gate: bool) -> None:
            for record, target, values in items:
                if gate:
                    with slots:
                        self._call(target, values, jobs[id(record)])
                else:
                    self._call(target, values, jobs[id(record)])

        for record, _, _ in runnable:
            jobs[id(record)] = _Job()
        for item in concurrent:
            threading.Thread(target=worker, args=([item], True), daemon=True, name="toolkit-tool").start()
        if serial:  # one after another, in their own thread so that timeouts still apply
            threading.Thread(target=worker, args=(serial, False), daemon=True, name="toolkit-tool").start()
        return jobs

    def _wait(self, record: ToolCallRecord, target: Tool, job: _Job, deadline: float | None) -> None:
        """Wait for a job until its timeout (counted from its start) or the run's deadline."""
        timeout = self._timeout(target)
        while not job.done.is_set():
            now = time.monotonic()
            ends = [end for end in (job.started + timeout if timeout is not None and job.started else None,
                                    deadline) if end is not None]
            if ends and now >= min(ends):
                self._abandon(record, timeout, by_deadline=deadline is not None and now >= deadline)
                return
            wait = min(ends) - now if ends else None
            if timeout is not None and not job.started:  # still waiting for a worker slot
                wait = 0.02 if wait is None else min(wait, 0.02)
            job.done.wait(wait)

    @staticmethod
    def _abandon(record: ToolCallRecord, timeout: float | None, *, by_deadline: bool) -> None:
        record.timed_out = True
        if by_deadline:
            record.error = f"{record.name} did not finish before the run's deadline"
        else:
            record.error = f"{record.name} did not finish within {timeout:g} seconds"
        record.content = f"Error: {record.error}"


def refuse(record: ToolCallRecord, message: str) -> ToolCallRecord:
    record.error = message
    record.content = f"Error: {message}"
    return record


def short(exc: BaseException, limit: int = 2000) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 (an exception whose __str__ itself fails)
        text = repr(type(exc))
    return text if len(text) <= limit else text[:limit] + "..."
