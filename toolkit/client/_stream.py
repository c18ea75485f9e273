"""Streaming: server events -> OpenAI-shaped ``ChatCompletionChunk``s, and back to a completion.

Synchronous generators only. ``Stream`` is an iterator and a context manager that closes the
connection when left early; ``get_final_completion()`` assembles what was streamed into the
``ChatCompletion`` the non-streaming call would have returned.
"""

from __future__ import annotations

import json
import json.scanner
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

from .._exceptions import APIConnectionError, APIError, APIResponseValidationError
from ._parsers import StreamParser, get_parser
from ._reasoning import ReasoningSplitter
from ._transport import error_message
from ._types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
    ChunkChoice,
    CompletionUsage,
    Function,
    new_call_id,
)

__all__ = ["Accumulator", "NativeStreamConverter", "Stream"]



_T = TypeVar("_T")


class Stream(Generic[_T]):
    """Chunks of a streamed chat completion (``Stream[ChatCompletionChunk]``)."""

    def __init__(self, chunks: Iterator[ChatCompletionChunk], response: Any = None) -> None:
        self._chunks = chunks
        self._response = response
        # folded in as the chunks pass (their strings kept, not the chunks: 50,000 retained
        # chunk objects would cost more in garbage collection than the whole parse)
        self._accumulator = Accumulator()

    def __iter__(self) -> Stream[_T]:
        return self

    def __next__(self) -> ChatCompletionChunk:
        chunk = next(self._chunks)
        self._accumulator.add(chunk)
        return chunk

    def __enter__(self) -> Stream[_T]:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and close the connection."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        if self._response is not None:
            self._response.close()

    def get_final_completion(self) -> ChatCompletion:
        """Read what is left and assemble the whole ``ChatCompletion``."""
        for _ in self:
            pass
        return self._accumulator.completion()


class Accumulator:
    """Chunks -> ``ChatCompletion`` (content and arguments concatenated per choice and call index)."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.choices: dict[int, dict[str, Any]] = {}
        self.usage: CompletionUsage | None = None

    def add(self, chunk: ChatCompletionChunk) -> None:
        if not self.id:
            self.id = chunk.id
        if not self.model:
            self.model = chunk.model
        if not self.created:
            self.created = chunk.created
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices or ():
            state = self.choices.get(choice.index)
            if state is None:
                state = self.choices[choice.index] = {"content": [], "reasoning": [], "calls": {}, "finish": None}
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    state["content"].append(delta.content)
                if delta.reasoning:
                    state["reasoning"].append(delta.reasoning)
                if delta.tool_calls:
                    _add_calls(state["calls"], delta.tool_calls)
            if choice.finish_reason is not None:
                state["finish"] = choice.finish_reason

    def completion(self) -> ChatCompletion:
        choices = []
        for index in sorted(self.choices):
            state = self.choices[index]
            calls = [ChatCompletionMessageToolCall(id=slot["id"] or new_call_id(), type="function",
                                                   function=Function(name=slot["name"],
                                                                     arguments="".join(slot["arguments"])))
                     for _, slot in sorted(state["calls"].items())]
            content = "".join(state["content"]) or None
            reasoning = "".join(state["reasoning"]).strip() or None
            message = ChatCompletionMessage(role="assistant", content=content, tool_calls=calls or None,
                                            reasoning=reasoning)
            choices.append(Choice(index=index, message=message, finish_reason=state["finish"]))
        return ChatCompletion(id=self.id or "chatcmpl-" + secrets.token_hex(16), object="chat.completion",
                              created=self.created or int(time.time()), model=self.model, choices=choices,
                              usage=self.usage)


def _add_calls(slots: dict[int, dict[str, Any]], calls: list[ChoiceDeltaToolCall]) -> None:
    for call in calls:
        slot = slots.get(call.index)
        if slot is None:
            slot = slots[call.index] = {"id": None, "name": "", "arguments": []}
        if not slot["id"]:
            slot["id"] = call.id
        function = call.function
        if function is not None:
            if function.name:
                slot["name"] += function.name
            if function.arguments:
                slot["arguments"].append(function.arguments)


class NativeStreamConverter:
    """Token texts of ``/generate_stream`` -> OpenAI chunks, with an incremental tool-call parser."""

    def __init__(self, *, model: str, parser: str | None, tools: Iterable[dict[str, Any]] | None, opened_think: bool,
                 reasoning_format: str = "think", recover_calls: bool = False) -> None:
        self.id = "chatcmpl-" + secrets.token_hex(16)
        self.created = int(time.time())
        self.model = model
        self.parser: StreamParser | None = get_parser(parser)(tools) if parser else None
        self.reasoning = ReasoningSplitter(opened_think, reasoning_format)
        self.calls = 0
        self.parser_name = parser
        self.tools = tools
        self.recover_calls = recover_calls
        self.thought: list[str] = []

    def _chunk(self, delta: ChoiceDelta | None, finish: str | None = None, usage: Any = None) -> ChatCompletionChunk:
        chunk = ChatCompletionChunk.__new__(ChatCompletionChunk)  # built directly: the hot path of a stream
        chunk.id, chunk.object, chunk.created, chunk.model = self.id, "chat.completion.chunk", self.created, \
            self.model
        if delta is None:
            chunk.choices = []
        else:
            choice = ChunkChoice.__new__(ChunkChoice)
            choice.index, choice.delta, choice.finish_reason = 0, delta, finish
            chunk.choices = [choice]
        chunk.usage = usage
        return chunk

    def start(self) -> ChatCompletionChunk:
        return self._chunk(ChoiceDelta(role="assistant", content=""))

    def token(self, text: str) -> list[ChatCompletionChunk]:
        reasoning, answer = self.reasoning.feed(text)
        return self._emit(reasoning, answer, final=False)

    def finish(self, finish_reason: str | None, usage: CompletionUsage | None) -> list[ChatCompletionChunk]:
        reasoning, answer = self.reasoning.finish(finish_reason)
        out = self._emit(reasoning, answer, final=True)
        if self.recover_calls and not self.calls and self.parser_name and self.thought:
            # calls written inside the reasoning, used because the answer has none
            _, calls, heads = deltas_from_events(_parse_events("".join(self.thought), self.parser_name, self.tools))
            if calls:
                self.calls += heads
                out.append(self._chunk(ChoiceDelta(tool_calls=calls)))
        reason = finish_reason or "stop"
        if self.calls and reason == "stop":
            reason = "tool_calls"
        out.append(self._chunk(ChoiceDelta(), reason))
        out.append(self._chunk(None, usage=usage))
        return out

    def _emit(self, reasoning: str, answer: str, *, final: bool) -> list[ChatCompletionChunk]:
        out = []
        if reasoning:
            self.thought.append(reasoning)
            out.append(self._chunk(ChoiceDelta(reasoning=reasoning)))
        if self.parser is None:
            if answer:
                out.append(self._chunk(ChoiceDelta(content=answer)))
            return out
        events = self.parser.feed(answer) if answer else []
        if final:
            events += self.parser.finish()
        content, calls, heads = deltas_from_events(events)
        self.calls += heads
        if content or calls:
            out.append(self._chunk(_delta(content, calls or None)))
        return out


def _parse_events(text: str, parser: str, tools: Any) -> list[Any]:
    p = get_parser(parser)(tools)
    return p.feed(text) + p.finish()


def deltas_from_events(events: list[Any], offset: int = 0) -> tuple[str | None, list[ChoiceDeltaToolCall], int]:
    """Parser events -> (content, tool-call deltas, number of new calls); call indexes start at ``offset``."""
    if not events:  # held back (a marker or a call's name not complete yet)
        return None, [], 0
    if len(events) == 1 and events[0][0] == "args":  # the common event inside a call: a piece of arguments
        return None, [_args_delta(offset + events[0][1], events[0][2])], 0
    text = []
    calls = []
    heads = 0
    for event in events:
        if event[0] == "content":
            text.append(event[1])
        elif event[0] == "head":
            heads += 1
            call_id = event[3] if len(event) > 3 and event[3] else new_call_id()
            calls.append(ChoiceDeltaToolCall(index=offset + event[1], id=call_id, type="function",
                                             function=ChoiceDeltaToolCallFunction(name=event[2], arguments="")))
        else:
            calls.append(_args_delta(offset + event[1], event[2]))
    return ("".join(text) or None), calls, heads


def _args_delta(index: int, arguments: str) -> ChoiceDeltaToolCall:
    """A piece of a call's arguments, built directly: the hot path of a streamed call."""
    function = ChoiceDeltaToolCallFunction.__new__(ChoiceDeltaToolCallFunction)
    function.name, function.arguments = None, arguments
    call = ChoiceDeltaToolCall.__new__(ChoiceDeltaToolCall)
    call.index, call.id, call.type, call.function = index, None, None, function
    return call


def _not_json(payload: bytes) -> APIResponseValidationError:
    text = payload[:120].decode("utf-8", "replace")
    return APIResponseValidationError(f"a streamed event is not JSON: {text!r}")


def _payloads(batches: Iterator[list[bytes]]) -> Iterator[bytes]:
    for batch in batches:
        yield from batch


def _json_loads() -> Any:
    """orjson's decoder when it is installed (several times faster), else ``lean_loads``."""
    try:
        import orjson  # pyright: ignore[reportMissingImports]
    except ImportError:
        return lean_loads
    return orjson.loads


_make_scanner: Any = json.scanner.make_scanner  # typeshed types it as taking a scanner, not a decoder
_scan = _make_scanner(json.JSONDecoder())
_SPACE = " \t\n\r"


def lean_loads(payload: bytes) -> Any:
    """``json.loads`` of a UTF-8 payload with the standard library's C scanner called directly:
    the same values and the same errors (``ValueError``), without ``json.loads``' encoding
    detection and wrappers, about half the time for a small event."""
    text = payload.decode("utf-8")
    if text[:1] in _SPACE or text[:1] == "\ufeff":
        text = text.lstrip(_SPACE) if text[:1] != "\ufeff" else text[1:].lstrip(_SPACE)
    try:
        value, end = _scan(text, 0)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    if end != len(text) and text[end:].strip(_SPACE):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


#: The decoder of streamed events (the benchmark swaps it to compare the two).
_loads: Any = _json_loads()


def _raise_if_error(event: Any) -> None:
    if isinstance(event, dict) and "error" in event and not event.get("choices") and "token" not in event:
        raise APIError(f"the server failed mid-stream: {error_message(event) or 'unknown error'}", body=event)


def native_chunks(transport: Any, response: Any, *, model: str, parser: str | None, tools: Any,
                  opened_think: bool, reasoning_format: str = "think",
                  recover_calls: bool = False) -> Iterator[ChatCompletionChunk]:
    converter = NativeStreamConverter(model=model, parser=parser, tools=tools, opened_think=opened_think,
                                      reasoning_format=reasoning_format, recover_calls=recover_calls)
    yield converter.start()
    loads = _loads
    for batch in transport.iter_event_batches(response):
        for payload in batch:
            try:
                event = loads(payload)
            except ValueError:
                raise _not_json(payload) from None
            token = event.get("token") if type(event) is dict else None
            if type(token) is dict and not event.get("finished") and "error" not in event:
                text = token.get("text")  # the common event: one token of text
                if text:
                    yield from converter.token(text)
                continue
            _raise_if_error(event)
            if type(event) is not dict or not isinstance(event.get("token") or {}, dict):
                raise APIResponseValidationError(f"a streamed event has no token object: {str(event)[:120]!r}")
            token = event.get("token") or {}
            text = token.get("text") or ""
            if text:
                yield from converter.token(text)
            if event.get("finished"):
                prompt = token.get("prompt_tokens") or 0
                completion = token.get("count_output_tokens") or 0
                usage = CompletionUsage(prompt_tokens=prompt, completion_tokens=completion,
                                        total_tokens=prompt + completion)
                yield from converter.finish(event.get("finish_reason"), usage)
                return
    raise APIConnectionError("the stream ended before the server said it had finished")


def openai_chunks(transport: Any, response: Any, *, parser: str, tools: Any,
                  recover_calls: bool = False) -> Iterator[ChatCompletionChunk]:
    """``/v1/chat/completions`` stream, normalised; markup left in content is parsed with ``parser``."""
    parsers: dict[int, StreamParser] = {}
    reasoning = _ReasoningTrim()
    thought: dict[int, list[str]] = {}
    server_calls: dict[int, int] = {}
    own_calls: dict[int, int] = {}
    finished = False
    loads = _loads
    for payload in _payloads(transport.iter_event_batches(response)):
        if payload[:1] != b"{" and payload.strip() == b"[DONE]":
            return
        try:
            event = loads(payload)
        except ValueError:
            raise _not_json(payload) from None
        fast = _content_only(event)
        if fast is not None:  # the common event: one choice, text only
            if not tools:
                yield _chunk(event, fast[0], fast[1], None)
            else:
                yield _text_chunk(event, fast[0], fast[1], parsers, parser, tools, server_calls, own_calls)
            continue
        _raise_if_error(event)
        chunk = ChatCompletionChunk.from_dict(event)
        if chunk.choices is None:
            chunk.choices = []
        for position, choice in enumerate(chunk.choices):
            delta = choice.delta or ChoiceDelta()
            if choice.index is None:
                choice.index = position
            if delta.reasoning is None:  # vLLM and others say reasoning_content
                raw = event["choices"][position].get("delta") or {}
                delta.reasoning = raw.get("reasoning_content")
            delta.reasoning = reasoning.trim(choice.index, delta.reasoning)
            if recover_calls and delta.reasoning:
                thought.setdefault(choice.index, []).append(delta.reasoning)
            calls = []
            for call in delta.tool_calls or ():
                server_calls[choice.index] = max(server_calls.get(choice.index, 0), (call.index or 0) + 1)
                calls.append(call)
            content = delta.content
            if tools and content:
                p = parsers.get(choice.index)
                if p is None:
                    p = parsers[choice.index] = get_parser(parser)(tools)
                content, extra = _parsed(p.feed(content), choice.index, server_calls, own_calls)
                calls.extend(extra)
            if choice.finish_reason is not None and tools and choice.index in parsers:
                tail, extra = _parsed(parsers.pop(choice.index).finish(), choice.index, server_calls, own_calls)
                content = (content or "") + (tail or "") or None
                calls.extend(extra)
                if own_calls.get(choice.index) and choice.finish_reason == "stop":
                    choice.finish_reason = "tool_calls"
            if choice.finish_reason is not None and tools and recover_calls and thought.get(choice.index) and \
                    not server_calls.get(choice.index) and not own_calls.get(choice.index) and not calls:
                _, extra = _parsed(_parse_events("".join(thought[choice.index]), parser, tools), choice.index,
                                   server_calls, own_calls)
                calls.extend(extra)
                if extra and choice.finish_reason == "stop":
                    choice.finish_reason = "tool_calls"
            choice.delta = ChoiceDelta(role=delta.role, content=content, tool_calls=calls or None,
                                       reasoning=delta.reasoning)
            finished = finished or choice.finish_reason is not None
        yield chunk
    if not finished:
        raise APIConnectionError("the stream ended before the server finished the answer")


def _text_chunk(event: dict[str, Any], index: int, text: str, parsers: dict[int, StreamParser], parser: str,
                tools: Any, server_calls: dict[int, int], own_calls: dict[int, int]) -> ChatCompletionChunk:
    """The chunk of a text-only event, its markup parsed into tool calls."""
    p = parsers.get(index)
    if p is None:
        p = parsers[index] = get_parser(parser)(tools)
    content, calls = _parsed(p.feed(text), index, server_calls, own_calls)
    return _chunk(event, index, content, calls or None)


def _delta(content: str | None, calls: list[Any] | None, role: str | None = None) -> ChoiceDelta:
    delta = ChoiceDelta.__new__(ChoiceDelta)
    delta.role, delta.content, delta.tool_calls, delta.reasoning = role, content, calls, None
    return delta


def _content_only(event: Any) -> tuple[int, str] | None:
    """(index, content) of an event holding one choice whose delta is only content (and role)."""
    if type(event) is not dict or event.get("usage") is not None:
        return None
    choices = event.get("choices")
    if type(choices) is not list or len(choices) != 1:
        return None
    choice = choices[0]
    if type(choice) is not dict or choice.get("finish_reason") is not None:
        return None
    delta = choice.get("delta")
    if type(delta) is not dict or len(delta) > 2:
        return None
    content = delta.get("content")
    if type(content) is not str or (len(delta) == 2 and delta.get("role") is None):
        return None
    index = choice.get("index")
    return (index if type(index) is int else 0), content


def _chunk(event: dict[str, Any], index: int, content: str | None, calls: list[Any] | None) -> ChatCompletionChunk:
    """A chunk built directly (no generic from_dict): the hot path of a stream."""
    delta = _delta(content, calls, event["choices"][0]["delta"].get("role"))
    choice = ChunkChoice.__new__(ChunkChoice)
    choice.index, choice.delta, choice.finish_reason = index, delta, None
    chunk = ChatCompletionChunk.__new__(ChatCompletionChunk)
    get: Any = event.get  # the ids as the server sent them (None when absent)
    chunk.id, chunk.object, chunk.created, chunk.model = get("id"), get("object"), get("created"), get("model")
    chunk.choices, chunk.usage = [choice], None
    return chunk


class _ReasoningTrim:
    """Per choice: reasoning without the newlines around it (LightLLM leaves one before
    ``</think>``), as the one-shot answer has it. Newlines at the end of a piece are held back
    until more reasoning shows they were inside it."""

    def __init__(self) -> None:
        self.held: dict[int, str] = {}

    def trim(self, index: int, text: str | None) -> str | None:
        if not text:
            return text
        if index not in self.held:
            text = text.lstrip()
            if not text:
                return None
        else:
            text = self.held[index] + text
        body = text.rstrip()
        self.held[index] = text[len(body):]
        return body or None


def _parsed(events: list[Any], index: int, server_calls: dict[int, int],
            own_calls: dict[int, int]) -> tuple[str | None, list[Any]]:
    content, calls, heads = deltas_from_events(events, server_calls.get(index, 0))
    if heads:
        own_calls[index] = own_calls.get(index, 0) + heads
    return content, calls
