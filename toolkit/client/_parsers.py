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
from collections.abc import Callable, Iterable
from typing import Any

from ._json_calls import HermesParser, Llama3Parser, MistralParser, decode_string_arguments
from ._parser_base import StreamParser
from ._tagged_calls import (
    DeepSeekV3Parser,
    DeepSeekV31Parser,
    DeepSeekV32Parser,
    GLM45Parser,
    GLM47Parser,
    KimiK2Parser,
    convert_value,
)
from ._types import ChatCompletionMessageToolCall, Function, new_call_id

__all__ = ["PARSERS", "StreamParser", "decode_string_arguments", "parse_tool_calls", "register_parser"]


class Qwen3CoderParser(StreamParser):
    """``<tool_call><function=NAME><parameter=KEY>VALUE</parameter>...</function></tool_call>``.

    Values are converted with the tool's JSON Schema when the tools are known (as LightLLM
    does), else parsed as JSON when they are JSON, else kept as strings.
    """

    markers = ("<tool_call>", "<function=")

    def __init__(self, tools: Any = None) -> None:
        super().__init__(tools)
        self.state = "text"
        self.raw = ""
        self.name = ""
        self.first = True
        self.param = ""

    # each state (``_<state>``, run by StreamParser._step) reads what it can and says whether to go
    # on (True) or wait for more text (False)

    def _text(self, final: bool) -> bool:
        marker, pos = self._text_until_marker(final)
        if pos < 0:
            return False
        if marker == "<tool_call>":
            self.raw = marker
            self.buf = self.buf[len(marker):]
            self.state = "block"
        else:
            self.raw = ""
            self.state = "function"
        return True

    def _block(self, final: bool) -> bool:  # after <tool_call>: expect <function=
        stripped = self.buf.lstrip()
        if not stripped or (not final and "<function=".startswith(stripped)):
            if final:
                self._fail()
            return False
        if not stripped.startswith("<function="):
            self._fail()
            return True
        self.raw += self.buf[:len(self.buf) - len(stripped)]
        self.buf = stripped
        self.state = "function"
        return True

    def _function(self, final: bool) -> bool:  # <function=NAME>
        end = self.buf.find(">")
        if end < 0:
            if final or len(self.buf) > 300:
                self._fail()
                return True
            return False
        name = self.buf[len("<function="):end].strip()
        if not name or "<" in name or "\n" in name:
            self._fail()
            return True
        self.buf = self.buf[end + 1:]
        self.name = name
        self.first = True
        self._head(name)
        self.state = "params"
        return True

    def _params(self, final: bool) -> bool:
        stripped = self.buf.lstrip()
        if stripped.startswith("<parameter="):
            end = stripped.find(">")
            if end < 0:
                if final:
                    self.buf = ""
                    self._close_function()
                return False
            self.param = stripped[len("<parameter="):end].strip()
            self.buf = stripped[end + 1:]
            self.state = "value"
        elif stripped.startswith("</function>"):
            self.buf = stripped[len("</function>"):]
            self._close_function()
            self.state = "close"
        elif not final and ("<parameter=".startswith(stripped) or "</function>".startswith(stripped)):
            return False
        else:  # anything else ends the call
            self.buf = stripped
            self._close_function()
            self.state = "text"
        return True

    def _value(self, final: bool) -> bool:
        ends = [p for p in (self.buf.find("</parameter>"), self.buf.find("<parameter="),
                            self.buf.find("</function>")) if p >= 0]
        if not ends:
            if final:
                self._param(self.buf)
                self.buf = ""
                self._close_function()
            return False
        end = min(ends)
        value = self.buf[:end]
        self.buf = self.buf[end:]
        if self.buf.startswith("</parameter>"):
            self.buf = self.buf[len("</parameter>"):]
        self._param(value)
        self.state = "params"
        return True

    def _close(self, final: bool) -> bool:
        stripped = self.buf.lstrip()
        if stripped.startswith("</tool_call>"):
            self.buf = stripped[len("</tool_call>"):]
        elif not final and stripped and "</tool_call>".startswith(stripped):
            return False
        elif not stripped and not final:
            return False
        self.state = "text"
        return True

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
        converted = convert_value(schema if isinstance(schema, dict) else None, value)
        kind = schema.get("type") if isinstance(schema, dict) else None
        if converted is value and kind in ("object", "array"):  # not JSON: a Python literal, read safely
            import ast

            try:
                return ast.literal_eval(value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return value
        return converted

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
register_parser("deepseekv3", DeepSeekV3Parser, "deepseek_v3", "deepseek_r1")
register_parser("deepseekv31", DeepSeekV31Parser, "deepseek_v31")
register_parser("deepseekv32", DeepSeekV32Parser, "deepseek_v32")
register_parser("kimi_k2", KimiK2Parser)
register_parser("glm47", GLM47Parser)
register_parser("glm45", GLM45Parser, "glm4_moe")


def get_parser(format: str) -> type[StreamParser]:
    try:
        return PARSERS[format]
    except KeyError:
        raise ValueError(f"unknown tool-call format {format!r}; known: {', '.join(sorted(PARSERS))}") from None


def collect(events: Iterable[tuple[Any, ...]], id_factory: Callable[[], str] = new_call_id) -> tuple[str | None, list[Any]]:
    """Events -> (content, tool calls)."""
    content: list[str] = []
    calls: list[list[Any]] = []
    for event in events:
        if event[0] == "content":
            content.append(event[1])
        elif event[0] == "head":
            calls.append([event[2], [], event[3] if len(event) > 3 else None])
        else:
            calls[event[1]][1].append(event[2])
    text = "".join(content)
    tool_calls = [ChatCompletionMessageToolCall(id=call_id or id_factory(), type="function",
                                                function=Function(name=name, arguments="".join(pieces)))
                  for name, pieces, call_id in calls]
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
