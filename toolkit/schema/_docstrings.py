"""Docstrings in Google, NumPy, reST or Epydoc style -> description + parameter texts."""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any, NamedTuple


class ParsedDoc(NamedTuple):
    description: str
    params: dict[str, str]
    returns: str


_EMPTY = ParsedDoc("", {}, "")
_NUMPY_RE = re.compile(r"^\s*(Parameters|Returns|Attributes|Other Parameters)\s*\n\s*-{3,}", re.M)
_GOOGLE_RE = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Returns|Attributes|Raises|Yields)\s*:\s*$", re.M)


def _style(text: str) -> Any:
    """Guess the style from its markers; a guess is much faster than trying every parser."""
    from docstring_parser.common import DocstringStyle

    if ":param" in text or ":return" in text or ":type" in text:
        return DocstringStyle.REST
    if "@param" in text or "@return" in text:
        return DocstringStyle.EPYDOC
    if _NUMPY_RE.search(text):
        return DocstringStyle.NUMPYDOC
    if _GOOGLE_RE.search(text):
        return DocstringStyle.GOOGLE
    return None


_SECTIONS = {"args", "arguments", "parameters", "params", "raises", "exceptions", "except", "attributes",
             "example", "examples", "returns", "yields"}
_PARAM_SECTIONS = {"args", "arguments", "parameters", "params", "attributes"}
_ENTRY_RE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def _google(text: str) -> ParsedDoc | None:
    """A fast reader for plain Google style; None hands anything unusual to docstring-parser."""
    lines = text.split("\n")
    body: list[str] = []
    params: dict[str, str] = {}
    returns: list[str] = []
    section = None
    current = None
    for line in lines:
        stripped = line.strip()
        if line and not line[0].isspace() and stripped.endswith(":") and stripped[:-1].lower() in _SECTIONS:
            section, current = stripped[:-1].lower(), None
            continue
        if section is None:
            body.append(line)
        elif section in _PARAM_SECTIONS:
            if not stripped:
                continue
            if line.startswith(" ") and not line.startswith("     ") or (line[:1] == "\t" and line[:2] != "\t\t"):
                match = _ENTRY_RE.match(stripped)
                if match is None:
                    return None
                current = match.group(1).lstrip("*")
                params[current] = match.group(2)
            elif current is not None and line[:1].isspace():
                params[current] = (params[current] + " " + stripped).strip()
            else:
                return None
        elif section == "returns" and stripped:
            returns.append(stripped)
    description = "\n".join(body).strip()
    returns_text = " ".join(returns)
    if returns_text and _ENTRY_RE.match(returns_text) and ":" in returns_text.split()[0]:
        returns_text = returns_text.split(":", 1)[1].strip()  # "int: the sum" -> "the sum"
    return ParsedDoc(description, {k: " ".join(v.split()) for k, v in params.items()}, returns_text)


_NUMPY_PARAMS = {"parameters", "other parameters", "attributes", "params", "arguments"}
_DASHES = re.compile(r"\s*-{3,}\s*\Z")


def _numpy(text: str) -> ParsedDoc | None:
    """A fast reader for plain NumPy style; None hands anything unusual to docstring-parser."""
    lines = text.split("\n")
    body: list[str] = []
    params: dict[str, str] = {}
    returns: list[str] = []
    section = None
    current: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped and i + 1 < len(lines) and _DASHES.match(lines[i + 1]):
            section, current = stripped.lower(), []
            i += 2
            continue
        i += 1
        if section is None:
            body.append(line)
        elif section in _NUMPY_PARAMS:
            if not stripped:
                continue
            if not line[0].isspace():  # "name : type" (or "x, y : type")
                current = [name.strip().lstrip("*") for name in stripped.split(":")[0].split(",")]
                if not all(name.isidentifier() for name in current):
                    return None
                for name in current:
                    params[name] = ""
            elif current:
                for name in current:
                    params[name] = (params[name] + " " + stripped).strip()
            else:
                return None
        elif section in ("returns", "yields") and stripped and line[0].isspace():
            returns.append(stripped)
    description = "\n".join(body).strip()
    return ParsedDoc(description, {k: v for k, v in params.items() if v}, " ".join(returns))


@functools.lru_cache(maxsize=1024)
def parse_docstring(doc: str | None) -> ParsedDoc:
    """Parse a docstring; the description is the summary plus the long description."""
    if not doc or not doc.strip():
        return _EMPTY
    text = inspect.cleandoc(doc)
    style = _style(text)
    if style is None:  # prose only
        return ParsedDoc(text.strip(), {}, "")
    import docstring_parser

    fast_reader = {docstring_parser.DocstringStyle.GOOGLE: _google,
                   docstring_parser.DocstringStyle.NUMPYDOC: _numpy}.get(style)
    if fast_reader is not None:
        fast = fast_reader(text)
        if fast is not None:
            return fast
    return parse_with_docstring_parser(text, style)


def parse_with_docstring_parser(text: str, style: Any) -> ParsedDoc:
    """The general path: docstring-parser with the guessed style (AUTO if that fails)."""
    import docstring_parser

    try:
        parsed = docstring_parser.parse(text, style)
    except docstring_parser.ParseError:
        parsed = docstring_parser.parse(text)
    parts = [part.strip() for part in (parsed.short_description, parsed.long_description) if part]
    sep = "\n" if parsed.blank_after_short_description is False else "\n\n"
    description = sep.join(parts)
    params = {}
    for param in parsed.params:
        name = param.arg_name.split()[-1].lstrip("*")
        if param.description:
            params[name] = " ".join(param.description.split())
    returns = ""
    if parsed.returns is not None and parsed.returns.description:
        returns = " ".join(parsed.returns.description.split())
    return ParsedDoc(description, params, returns)
