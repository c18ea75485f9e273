"""Drop-in clients for ``run()`` that answer from a script (no server, no network)."""

from __future__ import annotations

import collections
import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Union

from .._exceptions import ToolkitError
from ..client._client import _Chat, completion_id
from ..client._parsers import get_parser, parse_tool_calls
from ..client._reasoning import split_reasoning
from ..client._stream import Stream
from ..client._types import (
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

__all__ = ["FunctionClient", "ScriptedClient", "ScriptedRequest"]

#: One answer of a scripted model: the text a model writes, or
#: ``{"content": ..., "tool_calls": [{"name": ..., "arguments": {...}}], "reasoning": ...}``.
Output = Union[str, Mapping[str, Any]]


@dataclasses.dataclass
class ScriptedRequest:
    """What ``run()`` (or your code) asked the scripted model: for assertions."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    tool_choice: Any
    params: dict[str, Any]
    stream: bool
    model: str | None


class ScriptedClient:
    """A client that answers from a list of model outputs, in order.

    ``ScriptedClient(["<tool_call>...</tool_call>", "It is 21C."])`` or with dicts
    (``{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}``,
    ``{"content": "It is 21C."}``). Text is read as a model's would be: ``<think>`` reasoning
    split out, tool calls parsed with ``tool_parser`` when tools were offered. Every request is
    kept in ``client.requests``; ``stream=True`` works (the answer arrives in small deltas).

    Raises:
        ToolkitError: when asked for more answers than the script holds.
    """

    def __init__(self, outputs: Iterable[Output] = (), *, tool_parser: str = "qwen25", model: str = "scripted",
                 chunk_size: int = 4) -> None:
        get_parser(tool_parser)
        self.outputs: collections.deque[Output] = collections.deque(outputs)
        self.requests: list[ScriptedRequest] = []
        self.tool_parser = tool_parser
        self.model = model
        self.chunk_size = chunk_size
        self.chat = _Chat(self)  # type: ignore[arg-type]

    def _next(self, request: ScriptedRequest) -> Output:
        if not self.outputs:
            raise ToolkitError(f"the scripted model has no answer left for request {len(self.requests)} "
                               f"(add more outputs to the script)")
        return self.outputs.popleft()

    def _create(self, *, messages: list[dict[str, Any]], model: str | None, tools: list[dict[str, Any]] | None,
                tool_choice: Any, stream: bool, params: dict[str, Any], extra_body: dict[str, Any]) -> Any:
        request = ScriptedRequest(messages=[dict(m) for m in messages], tools=tools, tool_choice=tool_choice,
                                  params={**params, **({"extra_body": extra_body} if extra_body else {})},
                                  stream=stream, model=model)
        self.requests.append(request)
        output = self._next(request)
        completion = self._completion(output, messages, None if tool_choice == "none" else tools)
        if stream:
            return Stream(iter(_chunks(completion, self.chunk_size)))
        return completion

    def _completion(self, output: Output, messages: list[dict[str, Any]],
                    tools: list[dict[str, Any]] | None) -> ChatCompletion:
        if isinstance(output, str):
            reasoning, text = split_reasoning(output, False)
            content, calls = parse_tool_calls(text, self.tool_parser, tools=tools) if tools else (text or None, [])
            written = len(output)
            finish = None
        elif isinstance(output, Mapping):
            content = output.get("content")
            reasoning = output.get("reasoning")
            calls = [_call(c) for c in output.get("tool_calls") or ()]
            written = len(json.dumps(dict(output), default=str))
            finish = output.get("finish_reason")
        else:
            raise ToolkitError(f"a scripted output is a string or a dict, got {type(output).__name__}")
        reason = finish or ("tool_calls" if calls else "stop")
        prompt_tokens = len(json.dumps(messages, ensure_ascii=False, default=str)) // 4
        completion_tokens = written // 4 + 1
        message = ChatCompletionMessage(role="assistant", content=content, tool_calls=calls or None,
                                        reasoning=reasoning)
        return ChatCompletion(id=completion_id(), object="chat.completion", created=int(time.time()),
                              model=self.model, choices=[Choice(index=0, message=message, finish_reason=reason)],
                              usage=CompletionUsage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                                                    total_tokens=prompt_tokens + completion_tokens))

    def context_window(self) -> int | None:
        return None

    def close(self) -> None:
        """Nothing to close; here so the client is a drop-in."""

    def __enter__(self) -> ScriptedClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.outputs)} outputs left, {len(self.requests)} requests)"


class FunctionClient(ScriptedClient):
    """A client whose answers come from ``fn(messages, tools)`` (returning an ``Output``)."""

    def __init__(self, fn: Callable[[list[dict[str, Any]], list[dict[str, Any]] | None], Output], *,
                 tool_parser: str = "qwen25", model: str = "function", chunk_size: int = 4) -> None:
        if not callable(fn):
            raise TypeError(f"FunctionClient needs a callable fn(messages, tools), got {type(fn).__name__}")
        super().__init__((), tool_parser=tool_parser, model=model, chunk_size=chunk_size)
        self.fn = fn

    def _next(self, request: ScriptedRequest) -> Output:
        return self.fn(request.messages, request.tools)


def _call(spec: Any) -> ChatCompletionMessageToolCall:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ToolkitError(f"a scripted tool call is {{'name': ..., 'arguments': {{...}}}}, got {spec!r:.80}")
    arguments = spec.get("arguments", {})
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return ChatCompletionMessageToolCall(id=str(spec.get("id") or new_call_id()), type="function",
                                         function=Function(name=spec["name"], arguments=text))


def _pieces(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), max(1, size)):
        yield text[i:i + size]


def _chunks(completion: ChatCompletion, size: int) -> list[ChatCompletionChunk]:
    """A completion as the chunks a server would stream for it."""
    choice = completion.choices[0]
    message = choice.message

    def chunk(delta: ChoiceDelta | None, finish: str | None = None, usage: Any = None) -> ChatCompletionChunk:
        choices = [] if delta is None else [ChunkChoice(index=0, delta=delta, finish_reason=finish)]
        return ChatCompletionChunk(id=completion.id, object="chat.completion.chunk", created=completion.created,
                                   model=completion.model, choices=choices, usage=usage)

    out = [chunk(ChoiceDelta(role="assistant", content=""))]
    out += [chunk(ChoiceDelta(reasoning=piece)) for piece in _pieces(message.reasoning or "", size)]
    out += [chunk(ChoiceDelta(content=piece)) for piece in _pieces(message.content or "", size)]
    for index, call in enumerate(message.tool_calls or ()):
        out.append(chunk(ChoiceDelta(tool_calls=[ChoiceDeltaToolCall(
            index=index, id=call.id, type="function",
            function=ChoiceDeltaToolCallFunction(name=call.function.name, arguments=""))])))
        out += [chunk(ChoiceDelta(tool_calls=[ChoiceDeltaToolCall(
            index=index, function=ChoiceDeltaToolCallFunction(arguments=piece))]))
            for piece in _pieces(call.function.arguments or "", size)]
    out.append(chunk(ChoiceDelta(), choice.finish_reason))
    out.append(chunk(None, usage=completion.usage))
    return out
