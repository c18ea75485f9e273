"""Compiled type nodes: each knows its JSON Schema and how to coerce a JSON value.

A node is built once per type hint (see ``_build.py``) and then used for every call.
``coerce(value, path, errors, lenient)`` returns the Python value, or ``INVALID`` after
appending ``(path, message)`` to ``errors``. ``lenient=False`` accepts only the exact JSON
kinds of the schema; unions try every branch that way before trying the lenient forms
models really send (``"42"`` for 42, ``"true"`` for true, an array encoded as a string).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any, Callable

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()
_MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()

_INT_RE = re.compile(r"\s*[-+]?\d+\s*\Z")


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(value: Any) -> str:
    """A short description of a JSON value for error messages."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
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


def _fail(errors: list, path: tuple, message: str) -> Any:
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

    def schema(self, defs: "Defs") -> dict:
        raise NotImplementedError

    def coerce(self, value: Any, path: tuple, errors: list, lenient: bool = True) -> Any:
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

    def attach(self, schema: dict) -> dict:
        if self.schemas:
            schema = dict(schema)
            schema["$defs"] = dict(self.schemas)
        return schema


class AnyNode(Node):
    __slots__ = ()

    def schema(self, defs):
        return {}

    def coerce(self, value, path, errors, lenient=True):
        return value

    def expected(self):
        return "any value"


class NoneNode(Node):
    __slots__ = ()
    nullable = True

    def schema(self, defs):
        return {"type": "null"}

    def coerce(self, value, path, errors, lenient=True):
        if value is None:
            return None
        return _fail(errors, path, f"expected null, got {describe(value)}")

    def expected(self):
        return "null"


class BoolNode(Node):
    __slots__ = ()

    def schema(self, defs):
        return {"type": "boolean"}

    def coerce(self, value, path, errors, lenient=True):
        if isinstance(value, bool):
            return value
        if lenient and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return _fail(errors, path, f"expected a boolean (true or false), got {describe(value)}")

    def expected(self):
        return "a boolean"


class IntNode(Node):
    __slots__ = ()

    def schema(self, defs):
        return {"type": "integer"}

    def coerce(self, value, path, errors, lenient=True):
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

    def expected(self):
        return "an integer"


class FloatNode(Node):
    __slots__ = ()

    def schema(self, defs):
        return {"type": "number"}

    def coerce(self, value, path, errors, lenient=True):
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

    def expected(self):
        return "a number"


class StrNode(Node):
    __slots__ = ()

    def schema(self, defs):
        return {"type": "string"}

    def coerce(self, value, path, errors, lenient=True):
        if isinstance(value, str):
            return value
        return _fail(errors, path, f"expected a string, got {describe(value)}")

    def expected(self):
        return "a string"


class ParsedStrNode(Node):
    """A string parsed into a Python object: dates, UUID, Path, bytes (base64)."""

    __slots__ = ("keywords", "parse", "what")

    def __init__(self, keywords: dict, parse: Callable[[str], Any], what: str) -> None:
        self.keywords = keywords
        self.parse = parse
        self.what = what

    def schema(self, defs):
        return {"type": "string", **self.keywords}

    def coerce(self, value, path, errors, lenient=True):
        if isinstance(value, str):
            try:
                return self.parse(value)
            except (ValueError, TypeError, binascii.Error):
                pass
        return _fail(errors, path, f"expected {self.what}, got {describe(value)}")

    def expected(self):
        return self.what


def decode_base64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


class DecimalNode(Node):
    """Decimal: sent as a JSON number (or a numeric string), kept exact via ``str``."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def schema(self, defs):
        return {"type": "number"}

    def coerce(self, value, path, errors, lenient=True):
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

    def expected(self):
        return "a decimal number"


class EnumNode(Node):
    """Literal values or Enum members, matched by value (and JSON kind)."""

    __slots__ = ("values", "results", "type_name")

    def __init__(self, values: list, results: list) -> None:
        self.values = values
        self.results = results
        kinds = {json_kind(v) for v in values}
        self.type_name = kinds.pop() if len(kinds) == 1 else None

    @property
    def nullable(self):
        return None in self.values

    def schema(self, defs):
        out: dict = {}
        if self.type_name is not None:
            out["type"] = self.type_name
        out["enum"] = list(self.values)
        return out

    def _find(self, value):
        for candidate, result in zip(self.values, self.results):
            if candidate == value and json_kind(candidate) == json_kind(value):
                return result
        return INVALID

    def coerce(self, value, path, errors, lenient=True):
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

    def expected(self):
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in self.values[:20])
        return f"one of {shown}" if len(self.values) > 1 else shown


class ArrayNode(Node):
    """list / Sequence / tuple[T, ...] / set / frozenset."""

    __slots__ = ("items", "build", "unique")

    def __init__(self, items: Node, build: Callable = list, unique: bool = False) -> None:
        self.items = items
        self.build = build
        self.unique = unique

    def schema(self, defs):
        out: dict = {"type": "array"}
        item_schema = self.items.schema(defs)
        if item_schema:
            out["items"] = item_schema
        if self.unique:
            out["uniqueItems"] = True
        return out

    def coerce(self, value, path, errors, lenient=True):
        if lenient:
            value = _decode_container(value, list)
        if not isinstance(value, list):
            return _fail(errors, path, f"expected an array, got {describe(value)}")
        before = len(errors)
        items = [self.items.coerce(v, path + (i,), errors, lenient) for i, v in enumerate(value)]
        if len(errors) > before:
            return INVALID
        try:
            result = self.build(items)
        except TypeError as exc:  # unhashable members of a set
            return _fail(errors, path, str(exc))
        if self.unique and len(result) != len(items):
            return _fail(errors, path, "array items must be unique")
        return result

    def expected(self):
        return "an array"


class TupleNode(Node):
    """tuple[A, B, C]: a fixed-length array."""

    __slots__ = ("items",)

    def __init__(self, items: list[Node]) -> None:
        self.items = items

    def schema(self, defs):
        n = len(self.items)
        return {
            "type": "array",
            "prefixItems": [item.schema(defs) for item in self.items],
            "items": False,
            "minItems": n,
            "maxItems": n,
        }

    def coerce(self, value, path, errors, lenient=True):
        if lenient:
            value = _decode_container(value, list)
        if not isinstance(value, list):
            return _fail(errors, path, f"expected an array of {len(self.items)} items, got {describe(value)}")
        if len(value) != len(self.items):
            return _fail(errors, path, f"expected exactly {len(self.items)} items, got {len(value)}")
        before = len(errors)
        items = tuple(node.coerce(v, path + (i,), errors, lenient) for i, (node, v) in enumerate(zip(self.items, value)))
        return INVALID if len(errors) > before else items

    def expected(self):
        return f"an array of {len(self.items)} items"


class MapNode(Node):
    """dict[str, V] / Mapping[str, V]: an open object."""

    __slots__ = ("values", "keys")

    def __init__(self, values: Node, keys: Node | None = None) -> None:
        self.values = values
        self.keys = keys

    def schema(self, defs):
        out: dict = {"type": "object"}
        value_schema = self.values.schema(defs)
        if value_schema:
            out["additionalProperties"] = value_schema
        if self.keys is not None:
            out["propertyNames"] = self.keys.schema(defs)
        return out

    def coerce(self, value, path, errors, lenient=True):
        if lenient:
            value = _decode_container(value, dict)
        if not isinstance(value, dict):
            return _fail(errors, path, f"expected an object, got {describe(value)}")
        before = len(errors)
        out = {}
        for key, item in value.items():
            if self.keys is not None:
                key = self.keys.coerce(key, path + (key,), errors, False)
            out[key] = self.values.coerce(item, path + (str(key),), errors, lenient)
        return INVALID if len(errors) > before else out

    def expected(self):
        return "an object"


class UnionNode(Node):
    """Union / Optional / X | Y. Branches are tried in order: exact kinds first, then lenient forms."""

    __slots__ = ("options",)

    def __init__(self, options: list[Node]) -> None:
        self.options = options

    @property
    def nullable(self):
        return any(option.nullable for option in self.options)

    def schema(self, defs):
        return {"anyOf": [option.schema(defs) for option in self.options]}

    def coerce(self, value, path, errors, lenient=True):
        passes = (False, True) if lenient else (False,)
        for mode in passes:
            for option in self.options:
                scratch: list = []
                result = option.coerce(value, path, scratch, mode)
                if not scratch:
                    return result
        # Report the closest branch: the one whose kind matches, if any.
        for option in self.options:
            scratch = []
            option.coerce(value, path, scratch, True)
            if scratch and scratch[0][0] != format_path(path):
                errors.extend(scratch)
                return INVALID
        return _fail(errors, path, f"expected {self.expected()}, got {describe(value)}")

    def expected(self):
        return " or ".join(option.expected() for option in self.options)


class ConstrainedNode(Node):
    """A node plus JSON Schema keywords (annotated-types constraints, descriptions)."""

    __slots__ = ("inner", "keywords", "checks")

    def __init__(self, inner: Node, keywords: dict, checks: list) -> None:
        self.inner = inner
        self.keywords = keywords
        self.checks = checks

    @property
    def nullable(self):
        return self.inner.nullable

    def schema(self, defs):
        return {**self.inner.schema(defs), **self.keywords}

    def coerce(self, value, path, errors, lenient=True):
        result = self.inner.coerce(value, path, errors, lenient)
        if result is INVALID or result is None:
            return result
        for check, message in self.checks:
            try:
                ok = check(result)
            except TypeError:
                ok = True
            if not ok:
                return _fail(errors, path, f"{message}, got {describe(value)}")
        return result

    def expected(self):
        return self.inner.expected()


class Field:
    """One property of an object node."""

    __slots__ = ("name", "node", "required", "default", "description", "strict_null_default")

    def __init__(self, name: str, node: Node, *, required: bool, default: Any = _MISSING,
                 description: str | None = None) -> None:
        self.name = name
        self.node = node
        self.required = required
        self.default = default
        self.description = description
        #: Strict mode: the property is required but nullable; null means "use the default".
        self.strict_null_default = False


class RecordNode(Node):
    """An object with known properties: dataclass, TypedDict, NamedTuple, a function's parameters."""

    def __init__(self, name: str, build: Callable[[dict], Any] | None, *, strict: bool = False,
                 description: str | None = None) -> None:
        self.name = name
        self.fields: dict[str, Field] = {}
        self.build = build
        self.strict = strict
        self.description = description
        #: Schema of extra keys (``**kwargs``); None means extra keys are refused.
        self.extra: Node | None = None
        self.recursive = False

    def schema(self, defs):
        if not self.recursive:
            return self.body(defs)
        name, known = defs.name_for(self, self.name)
        if not known:
            defs.schemas[name] = self.body(defs)
        return {"$ref": f"#/$defs/{name}"}

    def body(self, defs) -> dict:
        properties = {}
        required = []
        for field in self.fields.values():
            prop = field.node.schema(defs)
            if field.strict_null_default and not field.node.nullable:
                prop = {"anyOf": [prop, {"type": "null"}]}
            if field.description and "description" not in prop:  # Annotated text wins
                prop = {**prop, "description": field.description}
            if field.default is not _MISSING and not self.strict:
                encoded = _json_default(field.default)
                if encoded is not _MISSING:
                    prop = {**prop, "default": encoded}
            properties[field.name] = prop
            if field.required or self.strict:
                required.append(field.name)
        out: dict = {"type": "object"}
        if self.description:
            out["description"] = self.description
        out["properties"] = properties
        if required:
            out["required"] = required
        if self.extra is None:
            out["additionalProperties"] = False
        else:
            extra = self.extra.schema(defs)
            if extra:
                out["additionalProperties"] = extra
        return out

    def coerce_fields(self, value, path, errors, lenient=True) -> Any:
        """Coerce to a plain dict of the fields present (no defaults filled), or INVALID."""
        if lenient:
            value = _decode_container(value, dict)
        if not isinstance(value, dict):
            return _fail(errors, path, f"expected an object, got {describe(value)}")
        before = len(errors)
        out = {}
        for name, field in self.fields.items():
            if name not in value:
                if field.required or (self.strict and not lenient):
                    _fail(errors, path + (name,), "required property is missing")
                continue
            item = value[name]
            if item is None and field.strict_null_default:
                continue  # null stands for "use the Python default"
            out[name] = field.node.coerce(item, path + (name,), errors, lenient)
        for name in value:
            if name in self.fields:
                continue
            if self.extra is None:
                known = ", ".join(self.fields) or "none"
                _fail(errors, path + (name,), f"unknown property (known: {known})")
            else:
                out[name] = self.extra.coerce(value[name], path + (name,), errors, lenient)
        return INVALID if len(errors) > before else out

    def coerce(self, value, path, errors, lenient=True):
        fields = self.coerce_fields(value, path, errors, lenient)
        if fields is INVALID or self.build is None:
            return fields
        try:
            return self.build(fields)
        except (TypeError, ValueError) as exc:
            return _fail(errors, path, f"{self.name}: {exc}")

    def expected(self):
        return f"an object ({self.name})"


class RefNode(Node):
    """A reference back to a record still being built (recursive types)."""

    __slots__ = ("target",)

    def __init__(self, target: RecordNode) -> None:
        self.target = target

    def schema(self, defs):
        return self.target.schema(defs)

    def coerce(self, value, path, errors, lenient=True):
        return self.target.coerce(value, path, errors, lenient)

    def expected(self):
        return self.target.expected()


class ExternalNode(Node):
    """A type that brings its own schema and validator (pydantic models)."""

    __slots__ = ("_schema", "validate", "name")

    def __init__(self, name: str, schema: dict, validate: Callable[[Any, tuple, list], Any]) -> None:
        self.name = name
        self._schema = schema
        self.validate = validate

    def schema(self, defs):
        own = dict(self._schema)
        for def_name, def_schema in own.pop("$defs", {}).items():
            defs.schemas.setdefault(def_name, def_schema)
        return own

    def coerce(self, value, path, errors, lenient=True):
        if lenient:
            value = _decode_container(value, dict)
        return self.validate(value, path, errors)

    def expected(self):
        return f"an object ({self.name})"


def _json_default(value: Any) -> Any:
    """A Python default as JSON, or _MISSING when it has no JSON form."""
    import enum

    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (tuple, frozenset, set)):
        value = list(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, dict)):
        try:
            return json.loads(json.dumps(value))
        except (TypeError, ValueError):
            return _MISSING
    return _MISSING
