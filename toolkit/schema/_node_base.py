"""The base of the type nodes: the ``Node`` protocol, ``Defs``, and error helpers (see ``_nodes``)."""

from __future__ import annotations

import json
from typing import Any

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()
#: The default of a field or parameter that has none.
NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()

def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(value: Any) -> str:
    """A short description of a JSON value for error messages."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, RecursionError):  # an integer too long to print, a structure too deep
        text = "..."
    kind = json_kind(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}" if kind not in ("null", "boolean") else text


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fail(errors: list[Any], path: tuple[Any, ...], message: str) -> Any:
    errors.append((format_path(path), message))
    return INVALID


def _decode_container(value: Any, kind: type) -> Any:
    """An object or array that a model sent encoded as a JSON string."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, kind):
            return decoded
    return value


class Node:
    """Base class. ``schema(defs)`` must not mutate ``self``."""

    __slots__ = ()
    #: Whether this node accepts JSON null.
    nullable = False

    def schema(self, defs: Defs) -> dict[str, Any]:
        raise NotImplementedError

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        raise NotImplementedError

    def expected(self) -> str:
        return "a valid value"


class Defs:
    """Collects ``$defs`` entries for recursive types while a schema is emitted."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self.names: dict[int, str] = {}

    def name_for(self, node: Node, base: str) -> tuple[str, bool]:
        """The ``$defs`` name of ``node`` and whether it was already registered."""
        key = id(node)
        if key in self.names:
            return self.names[key], True
        name, n = base, 1
        while name in self.schemas:
            n += 1
            name = f"{base}{n}"
        self.names[key] = name
        self.schemas[name] = None
        return name, False

    def attach(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.schemas:
            schema = dict(schema)
            schema["$defs"] = dict(self.schemas)
        return schema
