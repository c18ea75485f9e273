"""``run()``, ``iter_run()``, ``run_many()``: call the model with tools, run the calls it makes,
feed the results back, repeat (the machinery is in ``_engine``, loaded by the first run)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._defaults import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_RESULT_CHARS
from ._history import trim_tool_results

if TYPE_CHECKING:
    import concurrent.futures

    from ._events import Event, RunResult, ToolCallRequest, UsageLimits
    from .tool import RunContext, Tool

__all__ = ["iter_run", "run", "run_many"]

T = TypeVar("T")


def iter_run(input: Any, tools: Iterable[Any] = (), *, client: Any = None, model: str | None = None,
             system: str | None = None, max_steps: int = 10, parallel: bool = True, tool_choice: Any = "auto",
             context: Any = None, approve: Callable[[ToolCallRequest], Any] | None = None,
             on_tool_error: str = "feed", max_result_chars: int = DEFAULT_MAX_RESULT_CHARS, max_workers: int = 8,
             extra_body: Mapping[str, Any] | None = None, output_type: Any = None, output_strategy: str = "tool",
             output_tool_name: str = "final_result", output_retries: int = 2, stream: bool = False,
             tool_timeout: float | None = None, deadline: float | None = None, final_answer_on_limit: bool = True,
             limits: UsageLimits | None = None, context_window: int | None = None,
             history: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = trim_tool_results,
             prepare_tools: Callable[[RunContext[Any], list[Tool]], list[Tool]] | None = None,
             max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES, **sampling: Any) -> Iterator[Event]:
    """The loop as a generator of events (arguments as for ``run``): ``ModelResponse``,
    ``ToolCallStarted``, ``ToolResult`` and, last, ``Final`` (whose ``result`` is the
    ``RunResult``); with ``stream=True`` also ``TextDelta``, ``ReasoningDelta``, ``ToolCallDelta``
    and ``OutputDelta`` as the model writes. Options are checked when this is called, before any
    request. Closing the generator early closes the HTTP stream and runs no further tools."""
    from ._engine import _loop, _Options

    options = _Options(max_steps=max_steps, parallel=parallel, tool_choice=tool_choice, context=context,
                       approve=approve, on_tool_error=on_tool_error, max_result_chars=max_result_chars,
                       max_workers=max_workers, output_type=output_type, output_strategy=output_strategy,
                       output_tool_name=output_tool_name, output_retries=output_retries, stream=stream,
                       tool_timeout=tool_timeout, deadline=deadline, final_answer_on_limit=final_answer_on_limit,
                       limits=limits, context_window=context_window, history=history, prepare_tools=prepare_tools,
                       max_image_bytes=max_image_bytes)
    return _loop(input, tools, client, model, system, extra_body, "iter_run()", options, sampling).events()


@overload
def run(input: Any, tools: Iterable[Any] = ..., *, output_type: None = None, client: Any = ...,
        model: str | None = ..., system: str | None = ..., max_steps: int = ..., parallel: bool = ...,
        tool_choice: Any = ..., context: Any = ..., approve: Callable[[ToolCallRequest], Any] | None = ...,
        on_tool_error: str = ..., max_result_chars: int = ..., max_workers: int = ...,
        extra_body: Mapping[str, Any] | None = ..., output_strategy: str = ..., output_tool_name: str = ...,
        output_retries: int = ..., stream: bool = ..., on_event: Callable[[Event], Any] | None = ...,
        tool_timeout: float | None = ..., deadline: float | None = ..., final_answer_on_limit: bool = ...,
        limits: UsageLimits | None = ..., context_window: int | None = ...,
        history: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = ...,
        prepare_tools: Callable[[RunContext[Any], list[Tool]], list[Tool]] | None = ...,
        max_image_bytes: int = ..., **sampling: Any) -> RunResult[str]: ...


@overload
def run(input: Any, tools: Iterable[Any] = ..., *, output_type: type[T], client: Any = ...,
        model: str | None = ..., system: str | None = ..., max_steps: int = ..., parallel: bool = ...,
        tool_choice: Any = ..., context: Any = ..., approve: Callable[[ToolCallRequest], Any] | None = ...,
        on_tool_error: str = ..., max_result_chars: int = ..., max_workers: int = ...,
        extra_body: Mapping[str, Any] | None = ..., output_strategy: str = ..., output_tool_name: str = ...,
        output_retries: int = ..., stream: bool = ..., on_event: Callable[[Event], Any] | None = ...,
        tool_timeout: float | None = ..., deadline: float | None = ..., final_answer_on_limit: bool = ...,
        limits: UsageLimits | None = ..., context_window: int | None = ...,
        history: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = ...,
        prepare_tools: Callable[[RunContext[Any], list[Tool]], list[Tool]] | None = ...,
        max_image_bytes: int = ..., **sampling: Any) -> RunResult[T]: ...


@overload
def run(input: Any, tools: Iterable[Any] = ..., *, output_type: Any, client: Any = ...,
        model: str | None = ..., system: str | None = ..., max_steps: int = ..., parallel: bool = ...,
        tool_choice: Any = ..., context: Any = ..., approve: Callable[[ToolCallRequest], Any] | None = ...,
        on_tool_error: str = ..., max_result_chars: int = ..., max_workers: int = ...,
        extra_body: Mapping[str, Any] | None = ..., output_strategy: str = ..., output_tool_name: str = ...,
        output_retries: int = ..., stream: bool = ..., on_event: Callable[[Event], Any] | None = ...,
        tool_timeout: float | None = ..., deadline: float | None = ..., final_answer_on_limit: bool = ...,
        limits: UsageLimits | None = ..., context_window: int | None = ...,
        history: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = ...,
        prepare_tools: Callable[[RunContext[Any], list[Tool]], list[Tool]] | None = ...,
        max_image_bytes: int = ..., **sampling: Any) -> RunResult[Any]: ...


def run(input: Any, tools: Iterable[Any] = (), *, output_type: Any = None, client: Any = None,
        model: str | None = None, system: str | None = None, max_steps: int = 10, parallel: bool = True,
        tool_choice: Any = "auto", context: Any = None, approve: Callable[[ToolCallRequest], Any] | None = None,
        on_tool_error: str = "feed", max_result_chars: int = DEFAULT_MAX_RESULT_CHARS, max_workers: int = 8,
        extra_body: Mapping[str, Any] | None = None, output_strategy: str = "tool",
        output_tool_name: str = "final_result", output_retries: int = 2, stream: bool = False,
        on_event: Callable[[Event], Any] | None = None, tool_timeout: float | None = None,
        deadline: float | None = None, final_answer_on_limit: bool = True, limits: UsageLimits | None = None,
        context_window: int | None = None,
        history: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = trim_tool_results,
        prepare_tools: Callable[[RunContext[Any], list[Tool]], list[Tool]] | None = None,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES, **sampling: Any) -> RunResult[Any]:
    """Run the tool-calling loop to the model's final answer.

    Args:
        input: A prompt string, or a list of messages (e.g. ``result.messages`` to continue).
        tools: ``@tool`` functions or plain callables; only these can be called.
        output_type: The type of the final answer (dataclass, TypedDict, pydantic model,
            ``list[...]``, ``Literal``...); ``None`` or ``str``: the text.
        client: A ``LightLLMClient`` or ``OpenAICompatibleClient`` (default: a LightLLMClient
            from ``LIGHTLLM_BASE_URL``, or http://localhost:8000).
        model: The model name sent to the server.
        system: A system message put first.
        max_steps: The most model calls that may use tools; past it, one more call without
            tools asks for the final answer (``stop_reason="max_steps"``).
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
        output_strategy: "tool" (an extra ``final_result`` tool), "native" (constrained
            decoding) or "prompted" (the schema in the system message).
        output_tool_name: The name of the output tool.
        output_retries: Invalid outputs fed back before ``OutputValidationError``.
        stream: Call the model with ``stream=True`` (``on_event`` / ``iter_run`` see the deltas).
        on_event: Called with every event as it happens; if it raises, the run ends with a
            ``ToolkitError`` carrying ``.result``.
        tool_timeout: Seconds a tool call may run (``@tool(timeout=...)`` wins).
        deadline: Seconds for the whole run; past it no tool starts and one last call without
            tools asks for the answer (``stop_reason="deadline"``).
        final_answer_on_limit: False: a deadline or limit ends the run without that last call.
        limits: ``UsageLimits`` (requests, tool calls, tokens) for this run.
        context_window: The model's context in tokens (default: ``max_model_len`` of
            ``/v1/models``); the sent history is trimmed to fit.
        history: ``messages -> messages``, called to shrink what is sent (default
            ``trim_tool_results``).
        prepare_tools: ``fn(ctx, tools) -> tools`` before each model call: the tools shown.
        max_image_bytes: Largest image a tool may return.
        **sampling: temperature, top_p, top_k, max_tokens, stop, seed, penalties, ...; an unknown
            keyword is a ``TypeError``.

    Raises:
        ValueError / TypeError: an option is invalid (before any request).
        APIError: the server failed; ``error.result`` holds the run so far.
        ToolExecutionError: a tool raised and ``on_tool_error="raise"``; ``error.result`` too.
        OutputValidationError: the typed output stayed invalid past ``output_retries``.
        ToolkitError: a callback of yours (``approve``, ``on_event``, ``prepare_tools``) raised;
            the cause is chained, ``.result`` set.
    """
    from ._engine import _loop, _Options
    from ._events import Final
    from ._execute import CallbackError

    options = _Options(max_steps=max_steps, parallel=parallel, tool_choice=tool_choice, context=context,
                       approve=approve, on_tool_error=on_tool_error, max_result_chars=max_result_chars,
                       max_workers=max_workers, output_type=output_type, output_strategy=output_strategy,
                       output_tool_name=output_tool_name, output_retries=output_retries, stream=stream,
                       tool_timeout=tool_timeout, deadline=deadline, final_answer_on_limit=final_answer_on_limit,
                       limits=limits, context_window=context_window, history=history, prepare_tools=prepare_tools,
                       max_image_bytes=max_image_bytes)
    if on_event is not None and not callable(on_event):
        raise TypeError(f"on_event must be a callable, got {type(on_event).__name__}")
    loop = _loop(input, tools, client, model, system, extra_body, "run()", options, sampling)
    events = loop.events()
    for event in events:
        if on_event is not None:
            try:
                on_event(event)
            except Exception as exc:
                events.close()
                error = CallbackError(f"the on_event callback raised {type(exc).__name__}: {exc}")
                error.result = loop.result("error")
                raise error from exc
        if isinstance(event, Final):
            return event.result
    raise AssertionError("the loop ended without a final event")  # pragma: no cover


def run_many(inputs: Iterable[Any], tools: Iterable[Any] = (), *, client: Any = None, max_workers: int = 8,
             return_exceptions: bool = False, executor: concurrent.futures.Executor | None = None,
             on_result: Callable[[int, Any], Any] | None = None, **kwargs: Any) -> list[Any]:
    """Run many conversations; results in input order.

    By default on ``max_workers`` threads sharing one client (its connection pool grown to
    ``max_workers`` so that no connection is discarded). With ``executor=`` (any
    ``concurrent.futures.Executor``, e.g. a Dask ``distributed.Client(...).get_executor()``) each
    conversation runs where the executor puts it, with a client built there from
    ``client.config``; the tools and options must pickle (checked up front). ``on_result(index,
    result_or_error)`` is called as each conversation ends. With ``return_exceptions=True`` a failed
    conversation gives its exception (with ``.result``) in its place; otherwise the first failure is
    raised after all have finished. Other keywords are ``run()``'s, checked before anything starts.
    """
    import concurrent.futures

    from ._engine import _OPTION_FIELDS, _RUN_OPTIONS, _check_sampling, _Options, _positive_int, _tool_list
    from .client import LightLLMClient

    _positive_int("max_workers", max_workers)
    if on_result is not None and not callable(on_result):
        raise TypeError(f"on_result must be a callable (index, result_or_error), got {type(on_result).__name__}")
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in _RUN_OPTIONS}
    _check_sampling("run_many()", kwargs)
    tool_list = list(tools)
    _Options(**{k: v for k, v in options.items() if k in _OPTION_FIELDS}).check(_tool_list(tool_list))
    items = list(inputs)
    if executor is not None:
        return _run_remote(items, tool_list, client, executor, return_exceptions, on_result, {**options, **kwargs})
    owns = client is None
    client = client or LightLLMClient(pool_maxsize=max(max_workers, 32))
    transport = getattr(client, "_transport", None)
    if transport is not None:
        transport.ensure_pool(max_workers)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="toolkit-run") as pool:
            def one(item: Any) -> RunResult[Any]:
                return run(item, tool_list, client=client, **options, **kwargs)

            futures = [pool.submit(one, item) for item in items]
            return _gather(futures, return_exceptions, on_result)
    finally:
        if owns:
            client.close()


def _gather(futures: list[concurrent.futures.Future[Any]], return_exceptions: bool,
            on_result: Callable[[int, Any], Any] | None,
            resubmit: Callable[[int], concurrent.futures.Future[Any]] | None = None) -> list[Any]:
    """Results in input order, ``on_result`` called as each one arrives. With ``resubmit``, a
    conversation whose future failed for a reason of the executor's own (an error without the
    ``.result`` every conversation's error carries: a lost worker, a result the executor lost) is
    submitted once more."""
    import concurrent.futures

    futures = list(futures)
    index = {id(f): i for i, f in enumerate(futures)}
    retried: set[int] = set()
    pending = set(futures)
    while pending:
        done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            i = index[id(future)]
            error = future.exception()
            if error is not None and resubmit is not None and i not in retried and not hasattr(error, "result"):
                retried.add(i)
                futures[i] = resubmit(i)
                index[id(futures[i])] = i
                pending.add(futures[i])
            elif on_result is not None:
                on_result(i, error if error is not None else future.result())
    results = []
    for future in futures:
        error = future.exception()
        if error is not None and not return_exceptions:
            raise error
        results.append(error if error is not None else future.result())
    return results


def _run_remote(items: list[Any], tools: list[Any], client: Any, executor: concurrent.futures.Executor,
                return_exceptions: bool, on_result: Callable[[int, Any], Any] | None,
                kwargs: dict[str, Any]) -> list[Any]:
    """Conversations on another executor (processes, a Dask cluster): everything must pickle."""
    import pickle

    from .client import LightLLMClient

    for item in tools:
        try:
            pickle.dumps(item)
        except Exception as exc:  # noqa: BLE001 (any pickling failure is this error)
            name = getattr(item, "name", None) or getattr(item, "__name__", repr(item))
            raise ValueError(f"tool {name!r} cannot be sent to the executor's workers ({type(exc).__name__}: "
                             f"{exc}); define it at module level in an importable module (not in __main__ or as "
                             f"a lambda)") from exc
    for name, value in kwargs.items():
        try:
            pickle.dumps(value)
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"run_many option {name}= cannot be sent to the executor's workers: {exc}") from exc
    client = client if client is not None else LightLLMClient()
    config, kind = client.config, type(client)
    def submit(i: int) -> concurrent.futures.Future[Any]:
        return executor.submit(_remote_one, kind, config, items[i], tools, kwargs)

    return _gather([submit(i) for i in range(len(items))], return_exceptions, on_result, resubmit=submit)


def _remote_one(kind: Any, config: dict[str, Any], item: Any, tools: list[Any], kwargs: dict[str, Any]) -> Any:
    """One conversation on a worker, with its own client. Errors come back as a plain
    ``ToolkitError`` (message and ``.result``), which always pickles; a result that cannot be
    sent back (a tool returned an object that does not pickle) is a ``ValueError`` naming the
    tool, its ``.result`` the run with those values left out."""
    from ._exceptions import ToolkitError

    with kind.from_config(config) as client:
        try:
            result = run(item, tools, client=client, **kwargs)
        except ToolkitError as exc:
            error = ToolkitError(f"{type(exc).__name__}: {exc}")
            error.result, _ = _portable(exc.result)
            raise error from None
    portable, unsent = _portable(result)
    if portable is not result:
        names = ", ".join(repr(name) for name in dict.fromkeys(unsent)) or "(none: the run itself)"
        unsendable = ValueError(f"the result of tool {names} cannot be sent back from the worker; return plain "
                                f"data (dicts, lists, strings, numbers) from tools run on another executor")
        unsendable.result = portable  # type: ignore[attr-defined]
        raise unsendable
    return result


def _portable(result: Any) -> tuple[Any, list[str]]:
    """``result`` as it can be pickled, and the tools whose returned value or exception had to be
    left out (each record's ``content``, what the model read, is kept)."""
    import dataclasses
    import pickle

    from ._events import RunResult

    try:
        pickle.dumps(result)
        return result, []
    except Exception:  # noqa: BLE001 (whatever stops pickling, the records are checked one by one)
        if not isinstance(result, RunResult):
            raise
    records, unsent = [], []
    for record in result.tool_calls:
        try:
            pickle.dumps(record)
        except Exception:  # noqa: BLE001
            unsent.append(record.name)
            record = dataclasses.replace(record, result=None, exception=None)
        records.append(record)
    return dataclasses.replace(result, tool_calls=records), unsent
