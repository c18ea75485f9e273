"""The incremental parsing engine every tool-call format builds on (see ``_parsers``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["StreamParser"]


class _Content:
    """Content with the whitespace rules, incrementally: holds back trailing whitespace."""

    __slots__ = ("events", "pending_ws", "after_call", "need_sep", "emitted")

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.pending_ws = ""
        self.after_call = False
        self.need_sep = False
        self.emitted = False

    def text(self, s: str) -> None:
        if not s:
            return
        if self.after_call:
            s = s.lstrip()
            if not s:
                return
            self.after_call = False
        body = s.rstrip()
        if not body:
            self.pending_ws += s
            return
        out = ("\n" if self.need_sep else "") + self.pending_ws + body
        self.need_sep = False
        self.pending_ws = s[len(body):]
        self.emitted = True
        self.events.append(("content", out))

    def call(self) -> None:
        self.pending_ws = ""
        self.need_sep = self.emitted
        self.after_call = True

    def finish(self) -> None:
        if self.pending_ws and not self.after_call:
            self.events.append(("content", self.pending_ws))
        self.pending_ws = ""


class StreamParser:
    """Base class: feed text chunks, get events. Subclasses implement ``_step``."""

    #: Opening markers; a partial marker at the end of a chunk is held back.
    markers: tuple[str, ...] = ()
    #: First characters of the markers: text without any of them cannot start a call.
    _marker_starts: frozenset[Any] = frozenset()
    #: Text is consumed in windows of this size, so buffers stay small whatever a caller feeds.
    window = 4096
    #: Where the parser is; subclasses add their own states, "text" means between calls.
    state = "text"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._marker_starts = frozenset(marker[0] for marker in cls.markers)

    def __init__(self, tools: Iterable[dict[str, Any]] | None = None) -> None:
        self.events: list[Any] = []
        self.content = _Content(self.events)
        self.buf = ""
        self.index = -1
        self.tools = {t["name"]: t for t in _function_defs(tools)}

    def feed(self, text: str) -> list[Any]:
        if not self.buf and self.state == "text" and not any(c in text for c in self._marker_starts):
            self.content.text(text)  # fast path: plain text that cannot start a call
        elif len(text) <= self.window:
            self.buf += text
            self._step(final=False)
        else:
            for start in range(0, len(text), self.window):
                self.buf += text[start:start + self.window]
                self._step(final=False)
        return self._drain()

    def finish(self) -> list[Any]:
        self._step(final=True)
        self._finish()
        self.content.finish()
        return self._drain()

    def _drain(self) -> list[Any]:
        events = self.events
        if not events:
            return []
        self.events = self.content.events = []
        return events

    # helpers for subclasses
    def _head(self, name: str) -> int:
        self.content.call()
        self.index += 1
        self.events.append(("head", self.index, name))
        return self.index

    def _args(self, piece: str) -> None:
        if piece:
            self.events.append(("args", self.index, piece))

    def _text_until_marker(self, final: bool) -> tuple[str, int]:
        """Find the earliest marker in buf; emit text before it. Returns (marker, position) or ("", -1)."""
        best, best_pos = "", -1
        for marker in self.markers:
            pos = self.buf.find(marker)
            if pos >= 0 and (best_pos < 0 or pos < best_pos):
                best, best_pos = marker, pos
        if best_pos >= 0:
            self.content.text(self.buf[:best_pos])
            self.buf = self.buf[best_pos:]
            return best, 0
        keep = 0 if final else _partial_suffix(self.buf, self.markers)
        cut = len(self.buf) - keep
        self.content.text(self.buf[:cut])
        self.buf = self.buf[cut:]
        return "", -1

    def _step(self, final: bool) -> None:
        """The state machine: ``_<state>(final)`` reads what it can in state ``state`` and says
        whether to go on (True) or wait for more text (False)."""
        while getattr(self, "_" + self.state)(final):
            pass

    def _finish(self) -> None:
        pass


def _partial_suffix(text: str, markers: Iterable[str]) -> int:
    """Length of the longest end of ``text`` that is a proper prefix of a marker."""
    best = 0
    for marker in markers:
        for k in range(min(len(marker) - 1, len(text)), best, -1):
            if marker.startswith(text[-k:]):
                best = k
                break
    return best


def _function_defs(tools: Iterable[Any] | None) -> list[dict[str, Any]]:
    out = []
    for tool in tools or ():
        if isinstance(tool, dict):
            out.append(tool.get("function", tool))
    return out


