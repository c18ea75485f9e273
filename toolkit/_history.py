"""Keeping a conversation inside the model's context window.

Before each model call the loop estimates the prompt's tokens without a tokenizer: the previous
response's ``usage.prompt_tokens`` plus the characters added since, divided by the characters
per token observed in this run (3 until a response says otherwise). When the estimate plus
``max_tokens`` would not fit, ``history(messages)`` is applied to what is *sent* (the transcript
keeps everything) until it fits or stops shrinking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["ContextFit", "is_prompt_too_long", "trim_tool_results"]

DEFAULT_CHARS_PER_TOKEN = 3.0
TRIMMED = "[removed to fit the context window: {n} characters]"
_TOO_LONG = re.compile(r"prompt token len\s+\d+\s*\+\s*max_new_tokens\s+\d+\s*>|prompt is too long|"
                       r"maximum context length|context length exceeded|too many tokens", re.I)


def trim_tool_results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` with the oldest tool result's content replaced by a marker (one per call).

    Never touches the system message, the first user message or the current step (the tool
    results after the last assistant message), and never removes a message, so a tool call
    keeps its result message. Returns ``messages`` unchanged when nothing is left to trim.
    """
    last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    for i, message in enumerate(messages[:last_assistant]):
        if message.get("role") != "tool":
            continue
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        if text.startswith("[removed to fit the context window"):
            continue
        trimmed = list(messages)
        trimmed[i] = {**message, "content": TRIMMED.format(n=len(text))}
        return trimmed
    return messages


def is_prompt_too_long(error: Exception) -> bool:
    """Whether a server error says the prompt does not fit (LightLLM's 400 wording on both routes)."""
    return getattr(error, "status_code", None) == 400 and bool(_TOO_LONG.search(str(error)))


def _chars(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        content = message.get("content")
        total += len(content) if isinstance(content, str) else len(json.dumps(content, ensure_ascii=False))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            arguments = function.get("arguments")
            total += len(str(function.get("name") or "")) + (len(arguments) if isinstance(arguments, str)
                                                             else len(json.dumps(arguments, ensure_ascii=False)))
    return total


class ContextFit:
    """The estimate of one run, and the trimming it asks for."""

    def __init__(self, window: int | None, history: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
                 max_tokens: int | None) -> None:
        self.window = window
        self.history = history
        self.max_tokens = max_tokens or 0
        self.known_tokens = 0  # prompt tokens of the last response
        self.known_chars = 0  # characters of the messages that prompt held
        self.ratio = DEFAULT_CHARS_PER_TOKEN

    def observe(self, sent: list[dict[str, Any]], prompt_tokens: int | None) -> None:
        """Learn from a response: the prompt of ``sent`` was ``prompt_tokens`` tokens."""
        if prompt_tokens:
            chars = _chars(sent)
            self.known_tokens, self.known_chars = prompt_tokens, chars
            if chars:
                self.ratio = max(0.5, chars / prompt_tokens)

    def estimate(self, messages: list[dict[str, Any]], tools_chars: int = 0) -> int:
        chars = _chars(messages)
        if self.known_tokens:
            return self.known_tokens + int(max(0, chars - self.known_chars) / self.ratio)
        return int((chars + tools_chars) / self.ratio)

    def fit(self, messages: list[dict[str, Any]], tools_chars: int = 0, *, force: bool = False) -> list[dict[str, Any]]:
        """What to send: ``messages``, shrunk by ``history`` while the estimate does not fit
        (``force``: shrink as far as it goes, after the server said the prompt is too long)."""
        if self.window is None and not force:
            return messages
        sent = messages
        for _ in range(len(messages) + 1):
            if not force and self.estimate(sent, tools_chars) + self.max_tokens <= (self.window or 0):
                break
            shorter = self.history(sent)
            if shorter is sent or shorter == sent:
                break
            sent = shorter
        return sent
