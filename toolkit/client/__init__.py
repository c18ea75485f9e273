"""The synchronous LightLLM client: transport, wire protocols, chat templates, tool-call parsers."""

from __future__ import annotations

from ._client import PASSTHROUGH_PARAMS, SAMPLING_PARAMS
from ._lightllm import LightLLMClient
from ._openai import OpenAICompatibleClient
from ._parsers import PARSERS, StreamParser, parse_tool_calls, register_parser
from ._template import ChatTemplate
from ._transport import Limits, ResponseLimits, Timeout
from ._types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    CompletionUsage,
)

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
