"""Nodes of single JSON values: any, null, booleans, numbers, strings, parsed strings, enums."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from typing import Any

from ._node_base import INVALID, Defs, Node, _fail, describe, json_kind

_INT_RE = re.compile(r"\s*[-+]?\d+\s*\Z")


class AnyNode(Node):
    __slots__ = ()

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        return value

    def expected(self) -> str:
        return "any value"


class NoneNode(Node):
    __slots__ = ()
    nullable = True

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"type": "null"}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if value is None:
            return None
        return _fail(errors, path, f"expected null, got {describe(value)}")

    def expected(self) -> str:
        return "null"


class BoolNode(Node):
    __slots__ = ()

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"type": "boolean"}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if isinstance(value, bool):
            return value
        if lenient and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return _fail(errors, path, f"expected a boolean (true or false), got {describe(value)}")

    def expected(self) -> str:
        return "a boolean"


class IntNode(Node):
    __slots__ = ()

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"type": "integer"}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if lenient:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and len(value) < 100:
                if _INT_RE.match(value):
                    return int(value)
                try:
                    number = float(value)
                except ValueError:
                    pass
                else:
                    if number.is_integer():
                        return int(number)
        return _fail(errors, path, f"expected an integer, got {describe(value)}")

    def expected(self) -> str:
        return "an integer"


class FloatNode(Node):
    __slots__ = ()

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"type": "number"}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value)
        elif lenient and isinstance(value, str) and len(value) < 100:
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
        return _fail(errors, path, f"expected a number, got {describe(value)}")

    def expected(self) -> str:
        return "a number"


class StrNode(Node):
    __slots__ = ()

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"type": "string"}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if isinstance(value, str):
            return value
        return _fail(errors, path, f"expected a string, got {describe(value)}")

    def expected(self) -> str:
        return "a string"


class ParsedStrNode(Node):
    """A string parsed into a Python object: dates, UUID, Path, bytes (base64)."""

    __slots__ = ("keywords", "parse", "what")

    def __init__(self, keywords: dict[str, Any], parse: Callable[[str], Any], what: str) -> None:
        self.keywords = keywords
        self.parse = parse
        self.what = what

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"type": "string", **self.keywords}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if isinstance(value, str):
            try:
                return self.parse(value)
            except (ValueError, TypeError, binascii.Error):
                pass
        return _fail(errors, path, f"expected {self.what}, got {describe(value)}")

    def expected(self) -> str:
        return self.what


def decode_base64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


class DecimalNode(Node):
    """Decimal: sent as a JSON number (or a numeric string), kept exact via ``str``."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"type": "number"}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return self.cls(str(value))
        if lenient and isinstance(value, str) and len(value) < 100:
            try:
                number = self.cls(value.strip())
            except ArithmeticError:
                pass
            else:
                if number.is_finite():
                    return number
        return _fail(errors, path, f"expected a decimal number, got {describe(value)}")

    def expected(self) -> str:
        return "a decimal number"


class EnumNode(Node):
    """Literal values or Enum members, matched by value (and JSON kind)."""

    __slots__ = ("values", "results", "type_name")

    def __init__(self, values: list[Any], results: list[Any]) -> None:
        self.values = values
        self.results = results
        kinds = {json_kind(v) for v in values}
        self.type_name = kinds.pop() if len(kinds) == 1 else None

    @property
    def nullable(self) -> bool:  # type: ignore[override]
        return None in self.values

    def schema(self, defs: Defs) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.type_name is not None:
            out["type"] = self.type_name
        out["enum"] = list(self.values)
        return out

    def _find(self, value: Any) -> Any:
        for candidate, result in zip(self.values, self.results):
            if candidate == value and json_kind(candidate) == json_kind(value):
                return result
        return INVALID

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        found = self._find(value)
        if found is INVALID and lenient:
            if isinstance(value, str):
                try:
                    found = self._find(json.loads(value))
                except ValueError:
                    pass
            elif isinstance(value, float) and value.is_integer():
                found = self._find(int(value))
        if found is INVALID:
            return _fail(errors, path, f"expected {self.expected()}, got {describe(value)}")
        return found

    def expected(self) -> str:
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in self.values[:20])
        return f"one of {shown}" if len(self.values) > 1 else shown
