"""``OpenAICompatibleClient``: chat on ``/v1/chat/completions`` (LightLLM, vLLM, SGLang...)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from .._exceptions import APIResponseValidationError
from ._client import BaseClient, completion_id, with_call_arguments
from ._parsers import decode_string_arguments, get_parser, parse_tool_calls
from ._reasoning import reasoning_tags, split_reasoning
from ._types import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    CompletionUsage,
    Function,
    new_call_id,
)

__all__ = ["OpenAICompatibleClient"]


class OpenAICompatibleClient(BaseClient):
    """Chat on ``/v1/chat/completions`` (LightLLM started with ``--tool_call_parser``, vLLM, SGLang...).

    LightLLM's quirks are normalised: numeric ids, ``index: -1``, ``tool_calls: []`` with the
    raw markup left in ``content`` (re-parsed with ``tool_parser``), ``reasoning``, arguments
    encoded twice.

    ``reasoning_format`` ("think" default, "kimi", "none") splits reasoning a server left at the
    start of ``content`` (one-shot answers); ``calls_in_reasoning="recover"`` uses tool calls
    written inside the reasoning when the answer has none.
    """

    def __init__(self, base_url: str | Iterable[str] | None = None, api_key: str | None = None, timeout: Any = 600.0,
                 max_retries: int = 2, *, tool_parser: str | None = None, reasoning_format: str = "think",
                 calls_in_reasoning: str = "ignore", **options: Any) -> None:
        super().__init__(base_url, api_key, timeout, max_retries, tool_parser=tool_parser, **options)
        from ._lightllm import _calls_in_reasoning, _reasoning_format

        self.reasoning_format = "think" if reasoning_format == "auto" else _reasoning_format(reasoning_format)
        self.calls_in_reasoning = _calls_in_reasoning(calls_in_reasoning)
        self._kwargs.update(reasoning_format=reasoning_format, calls_in_reasoning=calls_in_reasoning)

    def _extra_config(self) -> dict[str, Any]:
        return {"reasoning_format": self.reasoning_format, "calls_in_reasoning": self.calls_in_reasoning}

    def _create(self, *, messages: list[dict[str, Any]], model: str | None, tools: list[dict[str, Any]] | None,
                tool_choice: Any, stream: bool, params: dict[str, Any], extra_body: dict[str, Any]) -> Any:
        body: dict[str, Any] = {"model": model or "default", "messages": [self._wire_message(m) for m in messages]}
        if tools is not None:
            body["tools"] = tools
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
        body.update(params)
        body.update(extra_body)
        parse_tools = None if tool_choice == "none" else tools
        if stream:
            from ._stream import Stream, openai_chunks

            body["stream"] = True
            body.setdefault("stream_options", {"include_usage": True})  # vLLM/SGLang send usage only then
            response = self._transport.send("POST", "/v1/chat/completions", body)
            return Stream(openai_chunks(self._transport, response, parser=self.tool_parser, tools=parse_tools,
                                        recover_calls=self.calls_in_reasoning == "recover"), response)
        data = self._transport.post_json("/v1/chat/completions", body)
        return self.normalize(data, parse_tools)

    @staticmethod
    def _wire_message(message: dict[str, Any]) -> dict[str, Any]:
        return with_call_arguments(message, _as_json_string)

    def normalize(self, data: Any, tools: list[dict[str, Any]] | None) -> ChatCompletion:
        """An OpenAI-style answer (with LightLLM's quirks) -> ``ChatCompletion``."""
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise APIResponseValidationError("the chat answer has no choices list", body=data)
        choices = []
        for i, raw in enumerate(data["choices"]):
            if not isinstance(raw, dict) or not isinstance(raw.get("message"), dict):
                raise APIResponseValidationError(f"choices[{i}] has no message", body=data)
            message = raw["message"]
            content = message.get("content")
            if isinstance(content, list):  # content parts
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            calls = [self._tool_call(c) for c in (message.get("tool_calls") or []) if isinstance(c, dict)]
            reason = raw.get("finish_reason")
            if not calls and tools and isinstance(content, str) and _has_marker(content, self.tool_parser):
                content, calls = parse_tool_calls(content, self.tool_parser, tools=tools)
                if calls and reason == "stop":
                    reason = "tool_calls"
            if calls and content == "":
                content = None
            reasoning = message.get("reasoning") or message.get("reasoning_content") or None
            if isinstance(reasoning, str):  # LightLLM's parser leaves the newline before </think>
                reasoning = reasoning.strip() or None
            tags = reasoning_tags(self.reasoning_format)
            if reasoning is None and tags and isinstance(content, str) and content.lstrip().startswith(tags[0]):
                reasoning, content = split_reasoning(content, False, self.reasoning_format, reason)
                content = content or None
                if tools and not calls and content and _has_marker(content, self.tool_parser):
                    content, calls = parse_tool_calls(content, self.tool_parser, tools=tools)
            if tools and not calls and reasoning and self.calls_in_reasoning == "recover":
                _, calls = parse_tool_calls(reasoning, self.tool_parser, tools=tools)
            if calls and reason == "stop":
                reason = "tool_calls"
            choices.append(Choice(index=raw.get("index", i), finish_reason=reason,
                                  message=ChatCompletionMessage(role=message.get("role") or "assistant",
                                                                content=content, tool_calls=calls or None,
                                                                reasoning=reasoning)))
        usage = data.get("usage")
        return ChatCompletion(id=str(data.get("id") or completion_id()), object="chat.completion",
                              created=data.get("created") or int(time.time()), model=data.get("model"),
                              choices=choices, usage=CompletionUsage.from_dict(usage) if isinstance(usage, dict) else None)

    @staticmethod
    def _tool_call(raw: dict[str, Any]) -> ChatCompletionMessageToolCall:
        function = raw.get("function") or {}
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            stripped = arguments.strip()
            if stripped.startswith('"'):
                arguments = decode_string_arguments(stripped)  # encoded twice
        elif arguments is None:
            arguments = ""
        else:
            arguments = json.dumps(arguments, ensure_ascii=False)
        call_id = raw.get("id")
        if not isinstance(call_id, str) or not call_id or call_id.lstrip("-").isdigit():
            call_id = new_call_id()
        return ChatCompletionMessageToolCall(id=call_id, type="function",
                                             function=Function(name=function.get("name") or "", arguments=arguments))


def _as_json_string(arguments: Any) -> str:
    """History arguments as the JSON string the server wants (objects are rejected with a 422)."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False)


def _has_marker(text: str, parser: str) -> bool:
    return any(marker in text for marker in get_parser(parser).markers if marker != "{")
