"""Repairing tool-call arguments a model wrote almost right, without changing what it wrote.

Each repair only changes the notation, never a value: JSON encoded twice, the same object sent
twice in a row, a code fence around the JSON, trailing commas before a closing bracket, or a Python literal (single quotes, True,
None) read with ``ast.literal_eval`` (which evaluates nothing). Anything else is reported.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["RepairError", "repair_arguments"]

_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.S)
_MAX_LITERAL = 100_000  # literal_eval of huge inputs is slow; a model rarely needs more
#: Deepest nesting of arrays/objects accepted in arguments (deeper input is refused before parsing).
MAX_DEPTH = 100


class RepairError(ValueError):
    """The arguments could not be read as a JSON object."""


def repair_arguments(raw: Any) -> tuple[dict[str, Any], bool]:
    """Return ``(arguments, repaired)``; ``repaired`` tells whether the text needed fixing.

    Raises:
        RepairError: with a message a model can act on.
    """
    if isinstance(raw, dict):
        return raw, False
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, False
    if not isinstance(raw, str):
        raise RepairError(f"arguments must be a JSON object, got {type(raw).__name__}")
    if _depth(raw) > MAX_DEPTH:
        raise RepairError(f"the arguments are nested more than {MAX_DEPTH} levels deep; send flatter JSON")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        first_error: str = f"{exc.msg} at position {exc.pos}"
    except (ValueError, RecursionError) as exc:  # e.g. an integer of thousands of digits
        raise RepairError(f"the arguments cannot be read ({_reason(exc)}); send one JSON object") from None
    else:
        return _as_object(value, repaired=False)
    for candidate in _candidates(raw):
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        return _as_object(value, repaired=True)
    literal = _python_literal(raw)
    if literal is not None:
        return _as_object(literal, repaired=True)
    raise RepairError(f"the arguments are not valid JSON ({first_error}); send one JSON object")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc)
    return "an integer has too many digits" if "integer string conversion" in text else text[:200]


def _depth(text: str) -> int:
    """How deeply brackets nest (strings skipped); stops counting past MAX_DEPTH."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    in_str = escape = False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _as_object(value: Any, *, repaired: bool) -> tuple[dict[str, Any], bool]:
    for _ in range(2):  # encoded twice (or three times)
        if not isinstance(value, str):
            break
        if _depth(value) > MAX_DEPTH:
            raise RepairError(f"the arguments are nested more than {MAX_DEPTH} levels deep; send flatter JSON")
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise RepairError("the arguments are a string, not a JSON object; send one JSON object") from None
        repaired = True
    if not isinstance(value, dict):
        kind = "array" if isinstance(value, list) else type(value).__name__
        raise RepairError(f"the arguments must be a JSON object, got {kind}")
    return value, repaired


def _candidates(raw: str) -> Iterator[str]:
    stripped = raw.strip()
    half = len(stripped) // 2
    if len(stripped) % 2 == 0 and half and stripped[:half] == stripped[half:]:
        yield stripped[:half]  # the same object sent twice (GLM-4.7 streams on LightLLM do this)
    text = raw
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
        yield text
    no_commas = _drop_trailing_commas(text)
    if no_commas != text:
        yield no_commas


def _drop_trailing_commas(text: str) -> str:
    """Remove commas that stand right before ``}`` or ``]`` (outside strings)."""
    out = []
    in_str = escape = False
    pending: list[str] = []  # a comma and the whitespace after it, held until we know
    for ch in text:
        if in_str:
            out.append(ch)
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
            continue
        if pending:
            if ch.isspace():
                pending.append(ch)
                continue
            if ch in "}]":
                out.extend(pending[1:])  # drop the comma, keep the whitespace
            else:
                out.extend(pending)
            pending = []
        if ch == ",":
            pending = [ch]
            continue
        out.append(ch)
        if ch == '"':
            in_str = True
    out.extend(pending)
    return "".join(out)


def _python_literal(raw: str) -> Any:
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text.startswith("{") or len(text) > _MAX_LITERAL:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if _json_like(value) else None


def _json_like(value: Any) -> bool:
    """Only values JSON has: no tuples, sets, bytes or complex numbers slipping through."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return not isinstance(value, float) or value == value and abs(value) != float("inf")
    if isinstance(value, list):
        return all(_json_like(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    return False
