"""Formats whose calls sit between special tokens: DeepSeek-V3/V3.1/V3.2, Kimi-K2, GLM-4.5/4.7.

One incremental engine (``TaggedCallParser``) serves them all: text until a section or call
marker, then per call a header (the name, and for Kimi the model's own call id) and a body (a
JSON object, or key/value pairs converted with the tool's schema) up to the call's end marker.
JSON bodies stream as they arrive (a partial end marker is held back); key/value bodies are
emitted whole when the call ends. Text that never yields a name stays in content as written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._parser_base import StreamParser

__all__ = ["DeepSeekV3Parser", "DeepSeekV31Parser", "DeepSeekV32Parser", "GLM45Parser", "GLM47Parser",
           "KimiK2Parser", "TaggedCallParser", "convert_value"]


def convert_value(schema: dict[str, Any] | None, value: str) -> Any:
    """A parameter value written as text -> the JSON value its schema asks for (as LightLLM's
    qwen3_coder and glm parsers do): strings stay strings, numbers and booleans are read, other
    values are parsed as JSON when they are JSON, else kept as the text."""
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
    except (ValueError, RecursionError):
        return value


class TaggedCallParser(StreamParser):
    """The engine; subclasses set the markers and read headers and bodies."""

    #: markers that open the calls (a section opener, or the call opener itself)
    section_open: str | None = None
    section_close: str | None = None
    call_open = ""
    call_close = ""
    #: True: the body is a JSON object streamed as it arrives; False: key/value pairs, emitted at the end
    json_body = True

    def __init__(self, tools: Any = None) -> None:
        super().__init__(tools)
        self.raw = ""  # the marker text of the current call, returned to content if it never becomes one
        self.section_raw = ""  # a section opener not yet followed by a call
        self.name: str | None = None
        self.body_sent = 0
        self.streaming = False
        self.in_section = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        cls.markers = tuple(m for m in (cls.section_open, cls.call_open) if m)
        super().__init_subclass__(**kwargs)

    # -- subclass hooks ------------------------------------------------------------------------------

    def header(self, text: str, complete: bool) -> tuple[str, str | None, int] | None:
        """From the start of a call's text (``complete``: up to its end marker): (name, the model's
        call id or None, where the body starts), or None while it cannot be read (yet)."""
        raise NotImplementedError

    def body_text(self, body: str) -> str:
        """A JSON body's text as sent (e.g. without a code fence)."""
        return body

    def pairs(self, body: str) -> dict[str, Any]:
        """A key/value body's arguments."""
        raise NotImplementedError

    # -- the engine -------------------------------------------------------------------------------------

    # the states text, section and call: ``_<state>``, run by StreamParser._step

    def _text(self, final: bool) -> bool:
        marker, pos = self._text_until_marker(final)
        if pos < 0:
            return False
        self.buf = self.buf[len(marker):]
        if marker == self.section_open:
            self.in_section = True
            self.section_raw = marker
            self.state = "section"
        else:
            self.raw = marker
            self.state = "call"
        return True

    def _section(self, final: bool) -> bool:
        """Between the calls of a section: the next call, the section's end, or other text."""
        stripped = self.buf.lstrip()
        if self.call_open and stripped.startswith(self.call_open):
            self.buf = stripped[len(self.call_open):]
            self.raw = self.section_raw + self.call_open
            self.section_raw = ""
            self.state = "call"
            return True
        if self.section_close and stripped.startswith(self.section_close):
            self.buf = stripped[len(self.section_close):]
            self.section_raw = ""
            self.in_section = False
            self.state = "text"
            return True
        if not final and (not stripped or any(m.startswith(stripped) for m in (self.call_open, self.section_close)
                                              if m)):
            return False
        self.content.text(self.section_raw)  # not a section after all, or text after its calls
        self.section_raw = ""
        self.in_section = False
        self.state = "text"
        return bool(self.buf)

    def _call(self, final: bool) -> bool:
        end = self.buf.find(self.call_close) if self.call_close else -1
        if self.name is None:
            text = self.buf if end < 0 else self.buf[:end]
            head = self.header(text, end >= 0 or final)
            if head is None:
                if end >= 0 or final or len(self.buf) > 512:
                    self._fail(end)
                    return True
                return False
            name, call_id, start = head
            self.name = name
            self._head_with_id(name, call_id)
            self.buf = self.buf[start:]
            end = self.buf.find(self.call_close) if self.call_close else -1
        if end < 0:
            if final:
                self._end_call(self.buf)
                self.buf = ""
                self.state = "text"
                return False
            if self.json_body:
                self._stream_body()
            return False
        self._end_call(self.buf[:end])
        self.buf = self.buf[end + len(self.call_close):]
        self.state = "section" if self.in_section else "text"
        return True

    def _head_with_id(self, name: str, call_id: str | None) -> None:
        self.content.call()
        self.index += 1
        self.events.append(("head", self.index, name, call_id) if call_id else ("head", self.index, name))
        self.raw = ""
        self.body_sent = 0
        self.streaming = False

    def _stream_body(self) -> None:
        """Send the JSON body that can no longer be part of the end marker (trailing space held back)."""
        if type(self).body_text is not TaggedCallParser.body_text:
            return  # a body read as a whole (a fenced block) is sent at the end
        safe = len(self.buf) - _partial(self.buf, self.call_close)
        safe = len(self.buf[:safe].rstrip())
        if not self.streaming:
            lead = len(self.buf[:safe]) - len(self.buf[:safe].lstrip())
            if lead >= safe:
                return
            self.body_sent = lead
            self.streaming = True
        if safe > self.body_sent:
            self._args(self.buf[self.body_sent:safe])
            self.body_sent = safe

    def _end_call(self, body: str) -> None:
        if not self.json_body:
            self._args(json.dumps(self.pairs(body), ensure_ascii=False))
        elif type(self).body_text is not TaggedCallParser.body_text:
            self._args(self.body_text(body).strip() or "{}")
        elif self.streaming:
            self._args(body[self.body_sent:].rstrip())
        else:
            self._args(body.strip() or "{}")
        self.name = None
        self.body_sent = 0
        self.streaming = False

    def _fail(self, end: int) -> None:
        """Not a call after all: its text goes back to content (up to and with its end marker)."""
        if end >= 0:
            text = self.raw + self.buf[:end + len(self.call_close)]
            self.buf = self.buf[end + len(self.call_close):]
        else:
            text = self.raw + self.buf
            self.buf = ""
        self.raw = ""
        self.content.text(text)
        self.state = "section" if self.in_section else "text"

    def _finish(self) -> None:
        if self.state == "section":
            self.content.text(self.section_raw + self.buf)
            self.section_raw = self.buf = ""
            self.state = "text"
        elif self.state == "call" and self.name is None:
            self._fail(-1)

    def _schema(self, key: str) -> dict[str, Any] | None:
        properties = (self.tools.get(self.name or "", {}).get("parameters") or {}).get("properties") or {}
        value = properties.get(key)
        return value if isinstance(value, dict) else None


def _partial(text: str, marker: str) -> int:
    for k in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-k:]):
            return k
    return 0


_DS_CALLS_BEGIN, _DS_CALLS_END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"
_DS_CALL_BEGIN, _DS_CALL_END, _DS_SEP = "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>"


class _DeepSeekCalls(TaggedCallParser):
    """The markers DeepSeek-V3, R1 and V3.1 share; they differ in the header and the body."""

    section_open, section_close = _DS_CALLS_BEGIN, _DS_CALLS_END
    call_open, call_close = _DS_CALL_BEGIN, _DS_CALL_END


class DeepSeekV31Parser(_DeepSeekCalls):
    """``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{json}<｜tool▁call▁end｜>...`` (DeepSeek-V3.1)."""

    def header(self, text: str, complete: bool) -> tuple[str, str | None, int] | None:
        sep = text.find(_DS_SEP)
        if sep < 0:
            return None
        name = text[:sep].strip()
        return (name, None, sep + len(_DS_SEP)) if _valid_name(name) else None


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?```\s*$", re.S)


class DeepSeekV3Parser(_DeepSeekCalls):
    """``<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\\n```json\\n{...}\\n```<｜tool▁call▁end｜>`` (DeepSeek-V3, R1)."""

    def header(self, text: str, complete: bool) -> tuple[str, str | None, int] | None:
        sep = text.find(_DS_SEP)
        if sep < 0:
            return None
        newline = text.find("\n", sep)
        if newline < 0:
            return None
        name = text[sep + len(_DS_SEP):newline].strip()
        return (name, None, newline + 1) if _valid_name(name) else None

    def body_text(self, body: str) -> str:
        fenced = _FENCE.match(body)
        return fenced.group(1) if fenced else body


_DSML = "｜DSML｜"
_DSML_PARAM = re.compile(r'<｜DSML｜parameter\s+name="([^"]*)"(?:\s+string="(true|false)")?\s*>(.*?)</｜DSML｜parameter>', re.S)


class DeepSeekV32Parser(TaggedCallParser):
    """DeepSeek-V3.2 DSML: ``<｜DSML｜function_calls><｜DSML｜invoke name="NAME"><｜DSML｜parameter
    name="k" string="true|false">v</｜DSML｜parameter></｜DSML｜invoke></｜DSML｜function_calls>``.
    ``string="true"`` values stay strings; others are read as JSON, else kept as text."""

    section_open, section_close = f"<{_DSML}function_calls>", f"</{_DSML}function_calls>"
    call_open, call_close = f"<{_DSML}invoke", f"</{_DSML}invoke>"
    json_body = False

    def header(self, text: str, complete: bool) -> tuple[str, str | None, int] | None:
        match = re.match(r'\s*name="([^"]*)"\s*>', text)
        if match is None:
            return None
        name = match.group(1).strip()
        return (name, None, match.end()) if _valid_name(name) else None

    def pairs(self, body: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, is_string, value in _DSML_PARAM.findall(body):
            if is_string == "true":
                out[key] = value
            else:
                try:
                    out[key] = json.loads(value)
                except (ValueError, RecursionError):
                    out[key] = convert_value(self._schema(key), value)
        return out


class KimiK2Parser(TaggedCallParser):
    """``<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{json}
    <|tool_call_end|>...<|tool_calls_section_end|>``; the model's id (``functions.NAME:IDX``) is kept."""

    section_open, section_close = "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"
    call_open, call_close = "<|tool_call_begin|>", "<|tool_call_end|>"

    def header(self, text: str, complete: bool) -> tuple[str, str | None, int] | None:
        marker = "<|tool_call_argument_begin|>"
        at = text.find(marker)
        if at < 0:
            return None
        call_id = text[:at].strip()
        match = re.fullmatch(r"(?:functions\.)?([A-Za-z0-9_.\-]+?)(?::(\d+))?", call_id)
        if match is None or not _valid_name(match.group(1)):
            return None
        return match.group(1), call_id, at + len(marker)


_GLM_PAIR = re.compile(r"<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)</arg_value>", re.S)


class GLM47Parser(TaggedCallParser):
    """``<tool_call>NAME<arg_key>k</arg_key><arg_value>v</arg_value>...</tool_call>`` (GLM-4.7; GLM-4.5/4.6
    put newlines between the parts, read the same way). Values are converted with the schema."""

    call_open, call_close = "<tool_call>", "</tool_call>"
    json_body = False

    def header(self, text: str, complete: bool) -> tuple[str, str | None, int] | None:
        match = re.match(r"\s*([^\s<]+)", text)
        if match is None:
            return None
        rest = text[match.end():]
        if not complete and not rest.lstrip().startswith("<") and "\n" not in rest:
            return None  # the name may still be arriving
        name = match.group(1)
        return (name, None, match.end()) if _valid_name(name) else None

    def pairs(self, body: str) -> dict[str, Any]:
        return {key.strip(): convert_value(self._schema(key.strip()), value) for key, value in _GLM_PAIR.findall(body)}


class GLM45Parser(GLM47Parser):
    """GLM-4.5/4.6: the GLM-4.7 format with each part on its own line."""


def _valid_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", name))
