"""Formats whose calls are JSON objects after a marker: qwen25/hermes, llama3, mistral."""

from __future__ import annotations

import json
import re
from typing import Any

from ._parser_base import StreamParser

__all__ = ["HermesParser", "Llama3Parser", "MistralParser", "decode_string_arguments"]

_STRUCT = re.compile(r'["{}\[\],:]')
_STRUCT_STOP = re.compile(r'["{}\[\],:<]')
_STRING_END = re.compile(r'["\\]')
_ARG_KEYS = ("arguments", "parameters")


class _JsonCall:
    """Scans one call object ``{"name": ..., "arguments": {...}}`` incrementally.

    Only the structure is tracked (depth, strings, keys at the top level), so the scan is
    linear; the name and the arguments text are cut out of the raw text.
    """

    __slots__ = ("buf", "pos", "depth", "in_str", "str_start", "expect_key", "key", "value_start",
                 "name", "args_start", "args_end", "args_streamed", "args_is_string", "done", "stop", "broken")

    def __init__(self, stop: str | None = None) -> None:
        #: the block's end tag: met outside a string before the object closed, it ends the call
        #: (malformed JSON never swallows the text after its block)
        self.stop = stop
        self.broken = False
        self.buf = ""
        self.pos = 0
        self.depth = 0
        self.in_str = False
        self.str_start = -1
        self.expect_key = False
        self.key: str | None = None
        self.value_start = -1
        self.name: str | None = None
        self.args_start = -1
        self.args_end = -1
        self.args_streamed = -1
        self.args_is_string = False
        self.done = False

    def feed(self, text: str) -> None:
        """Consume ``text``; ``done`` turns true when the object closes (the rest stays in ``buf``)."""
        self.buf += text
        buf = self.buf
        i = self.pos
        n = len(buf)
        while i < n:
            if self.in_str:
                i = self._string_end(buf, i, n)
                if self.in_str:  # the string (or its escape) continues in text still to come
                    break
                continue
            m = (_STRUCT_STOP if self.stop else _STRUCT).search(buf, i)
            if m is None:
                i = n
                break
            j = m.start()
            c = buf[j]
            i = j + 1
            if c == "<":
                if self._halts_at(buf, j):
                    i = j
                    break
            elif c == '"':
                self.in_str = True
                self.str_start = j
            elif c in "{[":
                self.depth += 1
                if self.depth == 1:
                    self.expect_key = True
                elif self.depth == 2 and self.key in _ARG_KEYS and self.args_start < 0:
                    self.args_start = j
                    self.args_streamed = j
            elif c in "}]":
                self.depth -= 1
                if self.depth == 1 and self.key in _ARG_KEYS and self.args_start >= 0 and self.args_end < 0:
                    self.args_end = i
                elif self.depth <= 0:
                    self._scalar_end(j)
                    self.done = True
                    break
            elif self.depth == 1:
                if c == ":":
                    self.value_start = i
                elif c == ",":
                    self._scalar_end(j)
                    self.expect_key = True
                    self.key = None
        self.pos = i

    def _string_end(self, buf: str, i: int, n: int) -> int:
        """Inside a string: the position after its closing quote (``in_str`` turns false), or
        where to resume once more text arrives."""
        while True:
            m = _STRING_END.search(buf, i)
            if m is None:
                return n
            j = m.start()
            if buf[j] == "\\":
                if j + 1 >= n:  # the escaped character has not arrived yet
                    return j
                i = j + 2
                continue
            self.in_str = False
            if self.depth == 1:
                self._string_closed(buf[self.str_start:j + 1], j + 1)
            return j + 1

    def _halts_at(self, buf: str, j: int) -> bool:
        """At a ``<`` outside strings: the block's end tag (the object is broken: stop), or maybe
        its start (wait for more text)."""
        stop = self.stop or ""
        if buf.startswith(stop, j):
            self.done = self.broken = True
            return True
        return len(buf) - j < len(stop) and stop.startswith(buf[j:])

    def compact(self) -> None:
        """Drop argument text already sent, so a long streamed call keeps a small buffer."""
        k = self.args_streamed
        if self.name is None or self.args_is_string or self.depth < 2 or self.args_end >= 0 or k < 8192:
            return
        self.buf = self.buf[k:]
        self.pos -= k
        self.args_streamed = 0
        self.args_start = 0
        self.str_start = max(self.str_start - k, -1)
        self.value_start = max(self.value_start - k, -1)

    def _string_closed(self, raw: str, end: int) -> None:
        if self.expect_key or self.key is None and self.value_start < 0:
            try:
                self.key = json.loads(raw)
            except ValueError:
                self.key = None
            self.expect_key = False
            self.value_start = -1
            return
        if self.key == "name" and self.name is None:
            try:
                name = json.loads(raw)
            except ValueError:
                return
            if isinstance(name, str) and name:
                self.name = name
        elif self.key in _ARG_KEYS and self.args_start < 0:
            self.args_start = end - len(raw)
            self.args_end = end
            self.args_is_string = True

    def _scalar_end(self, j: int) -> None:
        if self.key in _ARG_KEYS and self.args_start < 0 and self.value_start >= 0:
            raw = self.buf[self.value_start:j].strip()
            if raw:  # null, a number...: keep it for the caller to judge (null means no arguments)
                self.args_start = self.value_start + (len(self.buf[self.value_start:j]) -
                                                      len(self.buf[self.value_start:j].lstrip()))
                self.args_end = self.args_start + len(raw)
                self.args_is_string = True  # emitted whole, at the end

    # -- arguments ----------------------------------------------------------------------------

    def stream_pieces(self) -> str:
        """Argument text that can be sent now (only an object/array value streams)."""
        if self.args_start < 0 or self.args_is_string or self.name is None:
            return ""
        end = self.args_end if self.args_end >= 0 else self.pos
        if self.in_str and self.args_end < 0:
            end = self.pos
        piece = self.buf[self.args_streamed:end]
        self.args_streamed = end
        return piece

    def final_arguments(self) -> str:
        """The rest of the arguments once the object is complete (or cut off)."""
        if self.args_start < 0:
            return "{}" if self.args_streamed < 0 else ""
        if not self.args_is_string:
            return self.stream_pieces() if self.name is not None else self.buf[self.args_start:self.args_end]
        raw = self.buf[self.args_start:self.args_end]
        return decode_string_arguments(raw)

    @property
    def raw(self) -> str:
        return self.buf[:self.pos]


def decode_string_arguments(raw: str) -> str:
    """Arguments written as a JSON string (or null): decode once or twice to the object text."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if value is None:
        return "{}"
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            return value if isinstance(value, str) else raw
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class _JsonCallParser(StreamParser):
    """Formats whose calls are JSON objects after a marker: hermes/qwen25, llama3, mistral."""

    #: text allowed between two calls of one group ("," in a list, ";" for llama3)
    separators = ","
    #: closing markers consumed after a call group
    closers: tuple[str, ...] = ()
    #: markers that belong to the call text (llama3's bare "{")
    keep_markers: tuple[str, ...] = ()
    #: whether a "{" right after a call starts another call of the group
    continue_bare = False

    def __init__(self, tools: Any = None) -> None:
        super().__init__(tools)
        self.state = "text"
        self.call: _JsonCall | None = None
        self.raw_prefix = ""  # marker text of the current group, returned to content on failure
        self.in_list = False
        self.committed = False
        self.need_args = False
        self.group_calls = 0

    def feed(self, text: str) -> list[Any]:
        call = self.call
        if text and call is not None and call.in_str and call.args_end < 0 and '"' not in text and "\\" not in text and \
                self.committed and call.depth >= 2 and call.args_start >= 0 and not call.args_is_string and \
                call.pos == call.args_streamed == len(call.buf) and not self.buf and self.state == "call":
            # fast path: inside a string of arguments already streamed up to here, text that can
            # neither end the string nor escape is argument text and changes nothing else
            return [("args", self.index, text)]
        if call is not None and self.state == "call" and not self.buf and 0 < len(text) <= self.window:
            self.buf = text  # inside a call: straight to its scanner
            if self._call_step():
                self._step(final=False)
            return self._drain()
        return super().feed(text)

    def _call_step(self) -> bool:
        """Feed ``buf`` to the call being read; True when the call closed (``buf`` holds the rest)."""
        call = self.call
        assert call is not None
        call.feed(self.buf)
        self.buf = ""
        self._maybe_commit()
        if self.committed:
            self._args(call.stream_pieces())
        if not call.done:
            call.compact()
            return False
        self.buf = call.buf[call.pos:]
        self._close_call()
        return True

    def _step(self, final: bool) -> None:
        while True:
            if self.state == "text":
                marker, pos = self._text_until_marker(final)
                if pos < 0:
                    return
                if marker in self.keep_markers:  # the marker is the call's own first character
                    self.raw_prefix = ""
                else:
                    self.buf = self.buf[len(marker):]
                    self.raw_prefix = marker
                self.state = "open"
                self.in_list = False
                self.group_calls = 0
            elif self.state == "open":
                if not self._open(final):
                    return
            elif self.state == "call":
                if not self._call_step():
                    return
            elif self.state == "after":
                if not self._after(final):
                    return

    def _open(self, final: bool) -> bool:
        """After a marker: whitespace, then "[" (a list) or "{" (a call)."""
        stripped = self.buf.lstrip()
        if not stripped:
            if final:
                self._fail(self.buf)
            return final
        lead = self.buf[:len(self.buf) - len(stripped)]
        if stripped[0] == "[" and not self.in_list:
            self.in_list = True
            self.raw_prefix += lead + "["
            self.buf = stripped[1:]
            return True
        if stripped[0] == "{":
            self.raw_prefix += lead
            self.buf = stripped
            self._start_call()
            return True
        self._fail("")
        return True

    def _start_call(self) -> None:
        self.call = _JsonCall(self.closers[0] if self.closers else None)
        self.committed = False
        self.state = "call"
        # bare JSON with no marker is only a call when it has both a name and arguments
        self.need_args = not self.raw_prefix and bool(self.keep_markers) and self.group_calls == 0

    def _maybe_commit(self) -> None:
        call = self.call
        if not self.committed and call is not None and call.name is not None and \
                (not self.need_args or call.args_start >= 0):
            self.committed = True
            self._head(call.name)
            self.raw_prefix = ""

    def _close_call(self) -> None:
        call = self.call
        assert call is not None
        if not self.committed:
            self._fail(call.raw)
            return
        self._args(call.final_arguments())
        self.call = None
        self.group_calls += 1
        self.state = "after"

    def _fail(self, consumed: str) -> None:
        """Not a call after all: what was read goes to content, scanning resumes after the marker."""
        text = self.raw_prefix + consumed
        self.raw_prefix = ""
        self.call = None
        self.state = "text"
        self.content.text(text[:1])
        self.buf = text[1:] + self.buf  # rescan from the next character

    def _after(self, final: bool) -> bool:
        """Between calls of a group: separators, a closing "]" or tag, or the next call."""
        stripped = self.buf.lstrip()
        if not stripped:
            if final:
                self.buf = ""
                self.state = "text"
            return final
        c = stripped[0]
        if c in self.separators:
            nxt = stripped[1:].lstrip()
            if not nxt:  # wait to see what follows the separator
                if final:
                    self.buf = ""
                    self.state = "text"
                return final
            self.buf = nxt
            if nxt[0] == "{":
                self.raw_prefix = ""
                self._start_call()
            else:
                self.state = "text"
            return True
        if c == "]" and self.in_list:
            self.in_list = False
            self.buf = stripped[1:]
            return True
        if c == "{" and self.continue_bare:
            self.buf = stripped
            self.raw_prefix = ""
            self._start_call()
            return True
        for closer in self.closers:
            if stripped.startswith(closer):
                self.buf = stripped[len(closer):]
                self.state = "text"
                return True
            if not final and closer.startswith(stripped):
                return False  # maybe a closer still arriving
        self.buf = stripped
        self.state = "text"
        return True

    def _finish(self) -> None:
        if self.state == "call" and self.call is not None:
            if self.committed:
                self._args(self.call.final_arguments() if self.call.args_is_string else self.call.stream_pieces())
            else:
                self._fail(self.call.raw)
                self._step(final=True)
        elif self.state == "open":
            self._fail("")
            self._step(final=True)


class HermesParser(_JsonCallParser):
    """``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` (Qwen2.5, Qwen3, QwQ, Hermes)."""

    markers = ("<tool_call>",)
    closers = ("</tool_call>",)


class Llama3Parser(_JsonCallParser):
    """``<|python_tag|>{"name": ..., "parameters": {...}}``, several separated by ";"; bare JSON too."""

    markers = ("<|python_tag|>", "{")
    keep_markers = ("{",)
    separators = ";,"
    continue_bare = True


class MistralParser(_JsonCallParser):
    """``[TOOL_CALLS] [{"name": ..., "arguments": {...}}]``, and ``[TOOL_CALLS]name{...}`` /
    ``[TOOL_CALLS]name[ARGS]{...}`` of newer Mistral tokenizers."""

    markers = ("[TOOL_CALLS]",)

    def _open(self, final: bool) -> bool:
        stripped = self.buf.lstrip()
        if stripped and stripped[0] not in "[{":
            match = re.match(r"([A-Za-z0-9_.\-]+)(\[ARGS\])?\s*", stripped)
            if match is None:
                self._fail("")
                return True
            rest = stripped[match.end():]
            if not rest or (not final and rest.startswith("[ARGS]"[:len(rest)]) and not rest.startswith("{")):
                if final:
                    self._fail(self.buf)
                return final
            if rest[0] != "{":
                self._fail("")
                return True
            # name known: the head goes out now, the object that follows is the arguments
            self._head(match.group(1))
            self.raw_prefix = ""
            self.call = _ArgsOnly(match.group(1))
            self.committed = True
            self.buf = rest
            self.state = "call"
            return True
        return super()._open(final)


class _ArgsOnly(_JsonCall):
    """A bare arguments object (``name{...}``): every character of it is argument text."""

    __slots__ = ()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.args_start = 0
        self.args_streamed = 0

    def stream_pieces(self) -> str:
        piece = self.buf[self.args_streamed:self.pos]
        self.args_streamed = self.pos
        return piece

    def final_arguments(self) -> str:
        return self.stream_pieces()

    def compact(self) -> None:
        k = self.args_streamed
        if k >= 8192 and not self.in_str:
            self.buf = self.buf[k:]
            self.pos -= k
            self.args_streamed = 0


