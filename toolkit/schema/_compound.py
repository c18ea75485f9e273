"""Nodes built from other nodes: arrays, tuples, maps, unions, constraints, records, references."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ._node_base import INVALID, NO_DEFAULT, Defs, Node, _decode_container, _fail, describe, format_path


class ArrayNode(Node):
    """list / Sequence / tuple[T, ...] / set / frozenset."""

    __slots__ = ("items", "build", "unique")

    def __init__(self, items: Node, build: Callable[..., Any] = list, unique: bool = False) -> None:
        self.items = items
        self.build = build
        self.unique = unique

    def schema(self, defs: Defs) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array"}
        item_schema = self.items.schema(defs)
        if item_schema:
            out["items"] = item_schema
        if self.unique:
            out["uniqueItems"] = True
        return out

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
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

    def expected(self) -> str:
        return "an array"


class TupleNode(Node):
    """tuple[A, B, C]: a fixed-length array."""

    __slots__ = ("items",)

    def __init__(self, items: list[Node]) -> None:
        self.items = items

    def schema(self, defs: Defs) -> dict[str, Any]:
        n = len(self.items)
        return {
            "type": "array",
            "prefixItems": [item.schema(defs) for item in self.items],
            "items": False,
            "minItems": n,
            "maxItems": n,
        }

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if lenient:
            value = _decode_container(value, list)
        if not isinstance(value, list):
            return _fail(errors, path, f"expected an array of {len(self.items)} items, got {describe(value)}")
        if len(value) != len(self.items):
            return _fail(errors, path, f"expected exactly {len(self.items)} items, got {len(value)}")
        before = len(errors)
        items = tuple(node.coerce(v, path + (i,), errors, lenient) for i, (node, v) in enumerate(zip(self.items, value)))
        return INVALID if len(errors) > before else items

    def expected(self) -> str:
        return f"an array of {len(self.items)} items"


class MapNode(Node):
    """dict[str, V] / Mapping[str, V]: an open object."""

    __slots__ = ("values", "keys")

    def __init__(self, values: Node, keys: Node | None = None) -> None:
        self.values = values
        self.keys = keys

    def schema(self, defs: Defs) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object"}
        value_schema = self.values.schema(defs)
        if value_schema:
            out["additionalProperties"] = value_schema
        if self.keys is not None:
            out["propertyNames"] = self.keys.schema(defs)
        return out

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
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

    def expected(self) -> str:
        return "an object"


class UnionNode(Node):
    """Union / Optional / X | Y. Branches are tried in order: exact kinds first, then lenient forms."""

    __slots__ = ("options",)

    def __init__(self, options: list[Node]) -> None:
        self.options = options

    @property
    def nullable(self) -> bool:  # type: ignore[override]
        return any(option.nullable for option in self.options)

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {"anyOf": [option.schema(defs) for option in self.options]}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        passes = (False, True) if lenient else (False,)
        for mode in passes:
            for option in self.options:
                scratch: list[Any] = []
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

    def expected(self) -> str:
        return " or ".join(option.expected() for option in self.options)


class ConstrainedNode(Node):
    """A node plus JSON Schema keywords (annotated-types constraints, descriptions)."""

    __slots__ = ("inner", "keywords", "checks")

    def __init__(self, inner: Node, keywords: dict[str, Any], checks: list[Any]) -> None:
        self.inner = inner
        self.keywords = keywords
        self.checks = checks

    @property
    def nullable(self) -> bool:  # type: ignore[override]
        return self.inner.nullable

    def schema(self, defs: Defs) -> dict[str, Any]:
        return {**self.inner.schema(defs), **self.keywords}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
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

    def expected(self) -> str:
        return self.inner.expected()


class Field:
    """One property of an object node."""

    __slots__ = ("name", "node", "required", "default", "description", "strict_null_default")

    def __init__(self, name: str, node: Node, *, required: bool, default: Any = NO_DEFAULT,
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

    def __init__(self, name: str, build: Callable[[dict[str, Any]], Any] | None, *, strict: bool = False,
                 description: str | None = None) -> None:
        self.name = name
        self.fields: dict[str, Field] = {}
        self.build = build
        self.strict = strict
        self.description = description
        #: Schema of extra keys (``**kwargs``); None means extra keys are refused.
        self.extra: Node | None = None
        self.recursive = False

    def schema(self, defs: Defs) -> dict[str, Any]:
        if not self.recursive:
            return self.body(defs)
        name, known = defs.name_for(self, self.name)
        if not known:
            defs.schemas[name] = self.body(defs)
        return {"$ref": f"#/$defs/{name}"}

    def body(self, defs: Defs) -> dict[str, Any]:
        properties = {}
        required = []
        for field in self.fields.values():
            prop = field.node.schema(defs)
            if field.strict_null_default and not field.node.nullable:
                prop = {"anyOf": [prop, {"type": "null"}]}
            if field.description and "description" not in prop:  # Annotated text wins
                prop = {**prop, "description": field.description}
            elif field.description and isinstance(field.node, RecordNode) and \
                    prop.get("description") == field.node.description:
                # the parameter's own text wins over its class docstring, which follows it
                prop = {**prop, "description": f"{field.description}\n\n{field.node.description}"}
            if field.default is not NO_DEFAULT and not self.strict:
                encoded = _json_default(field.default)
                if encoded is not NO_DEFAULT:
                    prop = {**prop, "default": encoded}
            properties[field.name] = prop
            if field.required or self.strict:
                required.append(field.name)
        out: dict[str, Any] = {"type": "object"}
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

    def coerce_fields(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
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

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        fields = self.coerce_fields(value, path, errors, lenient)
        if fields is INVALID or self.build is None:
            return fields
        try:
            return self.build(fields)
        except (TypeError, ValueError) as exc:
            return _fail(errors, path, f"{self.name}: {exc}")

    def expected(self) -> str:
        return f"an object ({self.name})"


class RefNode(Node):
    """A reference back to a record still being built (recursive types)."""

    __slots__ = ("target",)

    def __init__(self, target: RecordNode) -> None:
        self.target = target

    def schema(self, defs: Defs) -> dict[str, Any]:
        return self.target.schema(defs)

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        return self.target.coerce(value, path, errors, lenient)

    def expected(self) -> str:
        return self.target.expected()


class AliasNode(Node):
    """A recursive type alias (``JSON = Union[..., list["JSON"]]``): its body goes to ``$defs``."""

    __slots__ = ("name", "inner", "recursive")

    def __init__(self, name: str) -> None:
        self.name = name
        self.inner: Node | None = None
        self.recursive = False

    @property
    def nullable(self) -> bool:  # type: ignore[override]
        return bool(self.inner is not None and self.inner.nullable)

    def schema(self, defs: Defs) -> dict[str, Any]:
        assert self.inner is not None
        if not self.recursive:
            return self.inner.schema(defs)
        name, known = defs.name_for(self, self.name)
        if not known:
            defs.schemas[name] = self.inner.schema(defs)
        return {"$ref": f"#/$defs/{name}"}

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        assert self.inner is not None
        return self.inner.coerce(value, path, errors, lenient)

    def expected(self) -> str:
        assert self.inner is not None
        return self.inner.expected()


class ExternalNode(Node):
    """A type that brings its own schema and validator (pydantic models)."""

    __slots__ = ("_schema", "validate", "name")

    def __init__(self, name: str, schema: dict[str, Any], validate: Callable[[Any, tuple[Any, ...], list[Any]], Any]) -> None:
        self.name = name
        self._schema = schema
        self.validate = validate

    def schema(self, defs: Defs) -> dict[str, Any]:
        own = dict(self._schema)
        for def_name, def_schema in own.pop("$defs", {}).items():
            defs.schemas.setdefault(def_name, def_schema)
        return own

    def coerce(self, value: Any, path: tuple[Any, ...], errors: list[Any], lenient: bool = True) -> Any:
        if lenient:
            value = _decode_container(value, dict)
        return self.validate(value, path, errors)

    def expected(self) -> str:
        return f"an object ({self.name})"


def _json_default(value: Any) -> Any:
    """A Python default as JSON, or NO_DEFAULT when it has no JSON form."""
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
            return NO_DEFAULT
    return NO_DEFAULT
