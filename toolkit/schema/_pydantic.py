"""pydantic models as parameter types: their own schema, their own validation.

Only imported when the type being built is a pydantic model, i.e. when pydantic is
already loaded by the user's code.
"""

from __future__ import annotations

import typing
from typing import Any

from . import _nodes as n


def _clean(schema: Any, strict: bool) -> Any:
    """Drop pydantic's titles; in strict mode close objects and require every property."""
    if isinstance(schema, list):
        return [_clean(item, strict) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: _clean(sub, strict) for name, sub in value.items()}
        else:
            out[key] = _clean(value, strict)
    if strict and out.get("type") == "object" and "properties" in out:
        required = set(out.get("required", ()))
        for name, prop in out["properties"].items():
            if name not in required:
                prop.pop("default", None)
                if not _accepts_null(prop):
                    out["properties"][name] = {"anyOf": [prop, {"type": "null"}]}
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def _accepts_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(isinstance(o, dict) and o.get("type") == "null"
                                               for o in schema.get("anyOf", ()))


def _models_in(annotation: Any) -> list[Any]:
    """The pydantic models an annotation holds (through Optional, unions, lists, dicts)."""
    import pydantic

    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _drop_null_defaults(model: Any, value: Any) -> Any:
    """Strict mode: null on an optional field means "use the model's default", at any depth."""
    if isinstance(value, list):
        return [_drop_null_defaults(model, item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        field = model.model_fields.get(key)
        if field is None:
            out[key] = item
            continue
        if item is None and not field.is_required():
            continue
        for inner in _models_in(field.annotation):
            item = _drop_null_defaults(inner, item) if isinstance(item, (dict, list)) else item
        out[key] = item
    return out


def pydantic_node(model: Any, strict: bool) -> n.Node:
    import pydantic

    schema = _clean(model.model_json_schema(), strict)

    def validate(value: Any, path: tuple[Any, ...], errors: list[tuple[str, str]]) -> Any:
        if strict:
            value = _drop_null_defaults(model, value)
        try:
            return model.model_validate(value)
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                loc = path + tuple(error.get("loc", ()))
                errors.append((n.format_path(loc), error.get("msg", "invalid value")))
            return n.INVALID

    return n.ExternalNode(model.__name__, schema, validate)
