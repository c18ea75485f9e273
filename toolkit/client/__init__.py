"""The synchronous LightLLM client: transport, wire protocols, chat templates, tool-call parsers.

Each name loads its module on first use, so that importing a client does not load every parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import PASSTHROUGH_PARAMS as PASSTHROUGH_PARAMS, SAMPLING_PARAMS as SAMPLING_PARAMS
    from ._lightllm import LightLLMClient as LightLLMClient
    from ._openai import OpenAICompatibleClient as OpenAICompatibleClient
    from ._parsers import (
        PARSERS as PARSERS,
        StreamParser as StreamParser,
        parse_tool_calls as parse_tool_calls,
        register_parser as register_parser,
    )
    from ._template import ChatTemplate as ChatTemplate
    from ._transport import Limits as Limits, ResponseLimits as ResponseLimits, Timeout as Timeout
    from ._types import (
        ChatCompletion as ChatCompletion,
        ChatCompletionChunk as ChatCompletionChunk,
        ChatCompletionMessage as ChatCompletionMessage,
        ChatCompletionMessageToolCall as ChatCompletionMessageToolCall,
        Choice as Choice,
        CompletionUsage as CompletionUsage,
    )

_LAZY = {
    "ChatCompletion": "._types",
    "ChatCompletionChunk": "._types",
    "ChatCompletionMessage": "._types",
    "ChatCompletionMessageToolCall": "._types",
    "ChatTemplate": "._template",
    "Choice": "._types",
    "CompletionUsage": "._types",
    "LightLLMClient": "._lightllm",
    "Limits": "._transport",
    "OpenAICompatibleClient": "._openai",
    "PARSERS": "._parsers",
    "PASSTHROUGH_PARAMS": "._client",
    "ResponseLimits": "._transport",
    "SAMPLING_PARAMS": "._client",
    "StreamParser": "._parsers",
    "Timeout": "._transport",
    "parse_tool_calls": "._parsers",
    "register_parser": "._parsers",
}

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatTemplate",
    "Choice",
    "CompletionUsage",
    "LightLLMClient",
    "Limits",
    "OpenAICompatibleClient",
    "PARSERS",
    "PASSTHROUGH_PARAMS",
    "ResponseLimits",
    "SAMPLING_PARAMS",
    "StreamParser",
    "Timeout",
    "parse_tool_calls",
    "register_parser",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
