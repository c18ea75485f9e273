"""Tool-call parsers: model text -> (content, tool calls), in one go or incrementally.

Every format is written once, as an incremental parser that takes text in chunks and emits
events; ``parse_tool_calls`` feeds it the whole text. So the streamed and the one-shot
results agree by construction, whatever the chunking, and the work is linear in the text.

Events (tuples):
    ("content", text)
    ("head", index, name)        a tool call starts; its id is assigned by the caller
    ("args", index, piece)       a piece of the call's arguments (a JSON text once complete)

Rules shared by every format (see the README for why):
- A call is recognised once its name has been read. Text that looked like the start of a
  call but never yielded a name (bad JSON, a bare opening tag) stays in ``content`` as written.
- Arguments are the model's own JSON text for the arguments object; arguments sent as a JSON
  string are decoded; a call cut off mid-arguments keeps the partial (invalid) text, for the
  caller to validate.
- Content is the text outside the calls: whitespace next to a call is dropped and the pieces
  between calls are joined with a newline; ``None`` when nothing is left.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable

from ._types import ChatCompletionMessageToolCall, Function, new_call_id

__all__ = ["PARSERS", "StreamParser", "parse_tool_calls", "register_parser"]

_STRUCT = re.compile(r'["{}\[\],:]')
_STRING_END = re.compile(r'["\\]')
_ARG_KEYS = ("arguments", "parameters")


class _Content:
    """Content with the whitespace rules, incrementally: holds back trailing whitespace."""

    __slots__ = ("events", "pending_ws", "after_call", "need_sep", "emitted")

    def __init__(self, events: list) -> None:
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


class _JsonCall:
    """Scans one call object ``{"name": ..., "arguments": {...}}`` incrementally.

    Only the structure is tracked (depth, strings, keys at the top level), so the scan is
    linear; the name and the arguments text are cut out of the raw text.
    """

    __slots__ = ("buf", "pos", "depth", "in_str", "str_start", "expect_key", "key", "value_start",
                 "name", "args_start", "args_end", "args_streamed", "args_is_string", "done")

    def __init__(self) -> None:
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
                m = _STRING_END.search(buf, i)
                if m is None:
                    i = n
                    break
                j = m.start()
                if buf[j] == "\\":
                    if j + 1 >= n:  # the escaped character has not arrived yet
                        i = j
                        break
                    i = j + 2
                    continue
                self.in_str = False
                i = j + 1
                if self.depth == 1:
                    self._string_closed(buf[self.str_start:i], i)
                continue
            m = _STRUCT.search(buf, i)
            if m is None:
                i = n
                break
            j = m.start()
            c = buf[j]
            i = j + 1
            if c == '"':
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


class StreamParser:
    """Base class: feed text chunks, get events. Subclasses implement ``_step``."""

    #: Opening markers; a partial marker at the end of a chunk is held back.
    markers: tuple[str, ...] = ()

    def __init__(self, tools: Iterable[dict] | None = None) -> None:
        self.events: list = []
        self.content = _Content(self.events)
        self.buf = ""
        self.index = -1
        self.tools = {t["name"]: t for t in _function_defs(tools)}

    #: Text is consumed in windows of this size, so buffers stay small whatever a caller feeds.
    window = 4096

    def feed(self, text: str) -> list:
        if not self.buf and self._plain(text):
            self.content.text(text)  # fast path: plain text that cannot start a call
        elif len(text) <= self.window:
            self.buf += text
            self._step(final=False)
        else:
            for start in range(0, len(text), self.window):
                self.buf += text[start:start + self.window]
                self._step(final=False)
        return self._drain()

    def _plain(self, text: str) -> bool:
        """Whether ``text`` can go straight to content (no marker can start inside it)."""
        if getattr(self, "state", "text") != "text":
            return False
        for first in self._marker_starts:
            if first in text:
                return False
        return True

    @property
    def _marker_starts(self) -> frozenset:
        starts = self.__dict__.get("_starts")
        if starts is None:
            starts = self.__dict__["_starts"] = frozenset(m[0] for m in self.markers)
        return starts

    def finish(self) -> list:
        self._step(final=True)
        self._finish()
        self.content.finish()
        return self._drain()

    def _drain(self) -> list:
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
        raise NotImplementedError

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


def _function_defs(tools: Iterable[Any] | None) -> list[dict]:
    out = []
    for tool in tools or ():
        if isinstance(tool, dict):
            out.append(tool.get("function", tool))
    return out


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

    def __init__(self, tools=None) -> None:
        super().__init__(tools)
        self.state = "text"
        self.call: _JsonCall | None = None
        self.raw_prefix = ""  # marker text of the current group, returned to content on failure
        self.in_list = False
        self.committed = False
        self.need_args = False
        self.group_calls = 0

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
                call = self.call
                call.feed(self.buf)
                self.buf = ""
                self._maybe_commit()
                if self.committed:
                    self._args(call.stream_pieces())
                if not call.done:
                    call.compact()
                    return
                self.buf = call.buf[call.pos:]
                self._close_call()
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
        self.call = _JsonCall()
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


class Qwen3CoderParser(StreamParser):
    """``<tool_call><function=NAME><parameter=KEY>VALUE</parameter>...</function></tool_call>``.

    Values are converted with the tool's JSON Schema when the tools are known (as LightLLM
    does), else parsed as JSON when they are JSON, else kept as strings.
    """

    markers = ("<tool_call>", "<function=")

    def __init__(self, tools=None) -> None:
        super().__init__(tools)
        self.state = "text"
        self.raw = ""
        self.name = ""
        self.first = True
        self.param = ""

    def _step(self, final: bool) -> None:
        while True:
            if self.state == "text":
                marker, pos = self._text_until_marker(final)
                if pos < 0:
                    return
                if marker == "<tool_call>":
                    self.raw = marker
                    self.buf = self.buf[len(marker):]
                    self.state = "block"
                else:
                    self.raw = ""
                    self.state = "function"
            elif self.state == "block":  # after <tool_call>: expect <function=
                stripped = self.buf.lstrip()
                if not stripped or (not final and "<function=".startswith(stripped)):
                    if final:
                        self._fail()
                    return
                if not stripped.startswith("<function="):
                    self._fail()
                    continue
                self.raw += self.buf[:len(self.buf) - len(stripped)]
                self.buf = stripped
                self.state = "function"
            elif self.state == "function":  # <function=NAME>
                end = self.buf.find(">")
                if end < 0:
                    if final or len(self.buf) > 300:
                        self._fail()
                        continue
                    return
                name = self.buf[len("<function="):end].strip()
                if not name or "<" in name or "\n" in name:
                    self._fail()
                    continue
                self.buf = self.buf[end + 1:]
                self.name = name
                self.first = True
                self._head(name)
                self.state = "params"
            elif self.state == "params":
                stripped = self.buf.lstrip()
                if stripped.startswith("<parameter="):
                    end = stripped.find(">")
                    if end < 0:
                        if final:
                            self.buf = ""
                            self._close_function()
                        return
                    self.param = stripped[len("<parameter="):end].strip()
                    self.buf = stripped[end + 1:]
                    self.state = "value"
                elif stripped.startswith("</function>"):
                    self.buf = stripped[len("</function>"):]
                    self._close_function()
                    self.state = "close"
                elif not final and ("<parameter=".startswith(stripped) or "</function>".startswith(stripped)):
                    return
                else:  # anything else ends the call
                    self.buf = stripped
                    self._close_function()
                    self.state = "text"
            elif self.state == "value":
                ends = [p for p in (self.buf.find("</parameter>"), self.buf.find("<parameter="),
                                    self.buf.find("</function>")) if p >= 0]
                if not ends:
                    if final:
                        self._param(self.buf)
                        self.buf = ""
                        self._close_function()
                    return
                end = min(ends)
                value = self.buf[:end]
                self.buf = self.buf[end:]
                if self.buf.startswith("</parameter>"):
                    self.buf = self.buf[len("</parameter>"):]
                self._param(value)
                self.state = "params"
            elif self.state == "close":
                stripped = self.buf.lstrip()
                if stripped.startswith("</tool_call>"):
                    self.buf = stripped[len("</tool_call>"):]
                elif not final and stripped and "</tool_call>".startswith(stripped):
                    return
                elif not stripped and not final:
                    return
                self.state = "text"

    def _fail(self) -> None:
        text = self.raw + self.buf
        self.raw = ""
        self.state = "text"
        self.content.text(text[:1])
        self.buf = text[1:]

    def _param(self, value: str) -> None:
        if value.startswith("\n"):
            value = value[1:]
        if value.endswith("\n"):
            value = value[:-1]
        converted = self._convert(self.param, value)
        piece = ("{" if self.first else ", ") + json.dumps(self.param, ensure_ascii=False) + ": " + \
            json.dumps(converted, ensure_ascii=False)
        self.first = False
        self._args(piece)

    def _close_function(self) -> None:
        self._args("{}" if self.first else "}")
        self.first = True
        self.state = "close"

    def _convert(self, key: str, value: str) -> Any:
        schema = self.tools.get(self.name, {}).get("parameters", {}).get("properties", {}).get(key)
        if value.strip().lower() == "null":
            return None
        kind = (schema or {}).get("type") if isinstance(schema, dict) else None
        if kind in ("string", "str", "text") or (schema and "enum" in schema and kind is None):
            return value
        if kind in ("integer", "int"):
            try:
                return int(value.strip())
            except ValueError:
                return value
        if kind in ("number", "float", "double"):
            try:
                number = float(value.strip())
            except ValueError:
                return value
            return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
        if kind in ("boolean", "bool"):
            return value.strip().lower() == "true"
        try:
            return json.loads(value)
        except ValueError:
            if kind in ("object", "array"):
                try:
                    import ast

                    return ast.literal_eval(value)
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    return value
            return value

    def _finish(self) -> None:
        if self.state in ("block", "function"):
            self._fail()
            self._step(final=True)


#: format name -> parser class. Add formats with ``register_parser``.
PARSERS: dict[str, type[StreamParser]] = {}


def register_parser(name: str, parser: type[StreamParser], *aliases: str) -> None:
    """Make a parser available under ``name`` (and aliases) for ``tool_parser=`` and ``format=``."""
    for key in (name, *aliases):
        PARSERS[key] = parser


register_parser("qwen25", HermesParser, "qwen", "hermes")
register_parser("llama3", Llama3Parser, "llama3_json")
register_parser("mistral", MistralParser)
register_parser("qwen3_coder", Qwen3CoderParser)


def get_parser(format: str) -> type[StreamParser]:
    try:
        return PARSERS[format]
    except KeyError:
        raise ValueError(f"unknown tool-call format {format!r}; known: {', '.join(sorted(PARSERS))}") from None


def collect(events: Iterable[tuple], id_factory: Callable[[], str] = new_call_id) -> tuple[str | None, list]:
    """Events -> (content, tool calls)."""
    content: list[str] = []
    calls: list[list] = []
    for event in events:
        if event[0] == "content":
            content.append(event[1])
        elif event[0] == "head":
            calls.append([event[2], []])
        else:
            calls[event[1]][1].append(event[2])
    text = "".join(content)
    tool_calls = [ChatCompletionMessageToolCall(id=id_factory(), type="function",
                                                function=Function(name=name, arguments="".join(pieces)))
                  for name, pieces in calls]
    return (text or None), tool_calls


def parse_tool_calls(text: str, format: str = "qwen25", *, tools: Iterable[Any] | None = None
                     ) -> tuple[str | None, list[ChatCompletionMessageToolCall]]:
    """Split model output into content and tool calls. Never raises on model text.

    Args:
        text: The generated text.
        format: A LightLLM ``--tool_call_parser`` name: qwen25 (alias qwen, hermes), llama3,
            mistral, qwen3_coder, or one added with ``register_parser``.
        tools: The tool definitions (used by qwen3_coder to convert parameter values).

    Returns:
        ``(content, tool_calls)``: the text outside the calls (None when empty), and the calls
        with ids ``call_<24 hex>`` and arguments as JSON strings.
    """
    parser = get_parser(format)(tools)
    events = parser.feed(text)
    events += parser.finish()
    return collect(events)
