"""Response types in the OpenAI shape: attribute access first, item access too.

``msg.tool_calls[0].function.name == msg["tool_calls"][0]["function"]["name"]``, and
``to_dict()`` gives the wire-shaped dict (``msg.to_dict()`` can be appended to messages).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any, ClassVar

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChunkChoice",
    "CompletionUsage",
    "Function",
    "new_call_id",
]


def new_call_id() -> str:
    """``call_`` + 24 hex characters, as LightLLM and OpenAI write them."""
    return "call_" + secrets.token_hex(12)


class _Model:
    """A small record: fields as attributes, item access, ``to_dict``, equality by value."""

    __slots__ = ()
    #: field name -> nested type (or a one-element list for a list of that type)
    _fields: ClassVar[dict[str, Any]] = {}
    #: fields written by to_dict() even when None
    _keep_none: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **values: Any) -> None:
        fields = self._fields
        if not values.keys() <= fields.keys():
            raise _unknown_field(type(self), next(k for k in values if k not in fields))
        get = values.get
        for name in fields:
            setattr(self, name, get(name))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        obj = cls.__new__(cls)
        for name, kind in cls._fields.items():
            value = data.get(name)
            if value is not None and kind is not None:
                if isinstance(kind, list):
                    value = [kind[0].from_dict(v) if isinstance(v, dict) else v for v in value]
                elif isinstance(value, dict):
                    value = kind.from_dict(value)
            object.__setattr__(obj, name, value)
        return obj

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for name in self._fields:
            value = getattr(self, name)
            if value is None and name not in self._keep_none:
                continue
            if isinstance(value, _Model):
                value = value.to_dict()
            elif isinstance(value, list):
                value = [v.to_dict() if isinstance(v, _Model) else v for v in value]
            out[name] = value
        return out

    def __getitem__(self, key: str) -> Any:
        if key not in self._fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None) if key in self._fields else None
        return default if value is None else value

    def __contains__(self, key: str) -> bool:
        return key in self._fields and getattr(self, key) is not None

    def keys(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Model):
            return type(self) is type(other) and self.to_dict() == other.to_dict()
        if isinstance(other, dict):
            return self.to_dict() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields if getattr(self, k) is not None)
        return f"{type(self).__name__}({shown})"


def _unknown_field(cls: type[_Model], key: str) -> TypeError:
    import difflib

    close = difflib.get_close_matches(key, list(cls._fields), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"{cls.__name__} has no field {key!r}{hint} (fields: {', '.join(cls._fields)})")


class Function(_Model):
    """The function a tool call names."""

    __slots__ = ("name", "arguments")
    _fields = {"name": None, "arguments": None}
    name: str
    #: The arguments as a JSON string (validate before use: a model may send anything).
    arguments: str


class ChatCompletionMessageToolCall(_Model):
    """One tool call of an assistant message."""

    __slots__ = ("id", "type", "function")
    _fields = {"id": None, "type": None, "function": Function}
    id: str
    type: str
    function: Function


class ChatCompletionMessage(_Model):
    """The assistant's message: text, tool calls, and reasoning when the server split it out."""

    __slots__ = ("role", "content", "tool_calls", "reasoning")
    _fields = {"role": None, "content": None, "tool_calls": [ChatCompletionMessageToolCall], "reasoning": None}
    _keep_none = ("content",)
    role: str
    content: str | None
    tool_calls: list[ChatCompletionMessageToolCall] | None
    reasoning: str | None


class Choice(_Model):
    __slots__ = ("index", "message", "finish_reason")
    _fields = {"index": None, "message": ChatCompletionMessage, "finish_reason": None}
    index: int
    message: ChatCompletionMessage
    #: "stop", "length" or "tool_calls" (other values a server sends are passed through).
    finish_reason: str | None


class CompletionUsage(_Model):
    __slots__ = ("prompt_tokens", "completion_tokens", "total_tokens")
    _fields = {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None}
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(_Model):
    __slots__ = ("id", "object", "created", "model", "choices", "usage")
    _fields = {"id": None, "object": None, "created": None, "model": None, "choices": [Choice],
               "usage": CompletionUsage}
    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage | None


class ChoiceDeltaToolCallFunction(_Model):
    __slots__ = ("name", "arguments")
    _fields = {"name": None, "arguments": None}
    name: str | None
    arguments: str | None


class ChoiceDeltaToolCall(_Model):
    """A piece of a streamed tool call; pieces with the same ``index`` make one call."""

    __slots__ = ("index", "id", "type", "function")
    _fields = {"index": None, "id": None, "type": None, "function": ChoiceDeltaToolCallFunction}
    index: int
    id: str | None
    type: str | None
    function: ChoiceDeltaToolCallFunction | None


class ChoiceDelta(_Model):
    __slots__ = ("role", "content", "tool_calls", "reasoning")
    _fields = {"role": None, "content": None, "tool_calls": [ChoiceDeltaToolCall], "reasoning": None}
    role: str | None
    content: str | None
    tool_calls: list[ChoiceDeltaToolCall] | None
    reasoning: str | None


class ChunkChoice(_Model):
    __slots__ = ("index", "delta", "finish_reason")
    _fields = {"index": None, "delta": ChoiceDelta, "finish_reason": None}
    index: int
    delta: ChoiceDelta
    finish_reason: str | None


class ChatCompletionChunk(_Model):
    __slots__ = ("id", "object", "created", "model", "choices", "usage")
    _fields = {"id": None, "object": None, "created": None, "model": None, "choices": [ChunkChoice],
               "usage": CompletionUsage}
    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None
