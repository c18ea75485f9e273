"""Reasoning at the start of an answer, split from it: one incremental splitter for both modes.

Formats: ``"think"`` (``<think>...</think>``, also when the prompt already opened ``<think>``, as
QwQ, Qwen3-thinking and DeepSeek-R1 templates do), ``"kimi"`` (``◁think▷...◁/think▷``), ``"none"``.

A block that never closes: when the answer was cut off (``finish_reason="length"``) all of it is
reasoning; otherwise the reasoning ends at its last blank line and what follows is the answer (all
of it when there is no blank line), because a model that forgot to close its reasoning usually
wrote the answer last. While streaming, the text after the last blank line is held back until the
block closes or the answer ends.
"""

from __future__ import annotations

__all__ = ["FORMATS", "ReasoningSplitter", "reasoning_tags", "split_reasoning"]

FORMATS = ("auto", "think", "kimi", "none")
_TAGS = {"think": ("<think>", "</think>"), "kimi": ("◁think▷", "◁/think▷")}


def reasoning_tags(format: str) -> tuple[str, str] | None:
    """The (open, close) tags of a format; None for "none"."""
    if format not in FORMATS:
        raise ValueError(f"reasoning_format must be one of {', '.join(FORMATS)}, got {format!r}")
    return None if format == "none" else _TAGS["think" if format == "auto" else format]


class ReasoningSplitter:
    """Feed answer text; get (reasoning piece, answer piece) back."""

    def __init__(self, opened: bool = False, format: str = "think") -> None:
        tags = reasoning_tags(format)
        self.tags = tags
        self.state = "answer" if tags is None else "reasoning" if opened else "detect"
        self.held = ""
        self.after_close = False

    def feed(self, text: str) -> tuple[str, str]:
        if self.tags is None:
            return "", text
        opening, closing = self.tags
        self.held += text
        if self.state == "detect":
            probe = self.held.lstrip()
            if probe.startswith(opening):
                self.held = probe[len(opening):]
                self.state = "reasoning"
            elif opening.startswith(probe):
                return "", ""  # still could be the opening tag
            else:
                self.state = "answer"
        if self.state == "reasoning":
            end = self.held.find(closing)
            if end < 0:
                # reasoning up to the last blank line; the rest waits (it may turn out to be the answer)
                cut = self.held.rfind("\n\n")
                cut = cut + 2 if cut >= 0 else 0
                cut = min(cut, len(self.held) - _partial(self.held, closing))
                piece, self.held = self.held[:cut], self.held[cut:]
                return piece, ""
            piece, rest = self.held[:end], self.held[end + len(closing):]
            self.held = ""
            self.state = "answer"
            self.after_close = True
            return piece, self._answer(rest)
        out, self.held = self.held, ""
        return "", self._answer(out)

    def _answer(self, text: str) -> str:
        if self.after_close:
            text = text.lstrip("\n")
            if text:
                self.after_close = False
        return text

    def finish(self, finish_reason: str | None = None) -> tuple[str, str]:
        held, self.held = self.held, ""
        if self.state == "reasoning":  # never closed
            self.state = "answer"
            return (held, "") if finish_reason == "length" else ("", held.strip())
        if self.state == "detect":
            return "", held
        return "", self._answer(held)


def split_reasoning(text: str, prompt_opened_think: bool = False, format: str = "think",
                    finish_reason: str | None = None) -> tuple[str | None, str]:
    """(reasoning or None, answer) of a whole answer: the splitter fed the whole text, so the
    one-shot and streamed results agree."""
    splitter = ReasoningSplitter(prompt_opened_think, format)
    reasoning, answer = splitter.feed(text)
    more_reasoning, more_answer = splitter.finish(finish_reason)
    return (reasoning + more_reasoning).strip() or None, answer + more_answer


def _partial(text: str, marker: str) -> int:
    for k in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-k:]):
            return k
    return 0
