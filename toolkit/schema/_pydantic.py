"""pydantic models as parameter types: their own schema, their own validation.

Only imported when the type being built is a pydantic model, i.e. when pydantic is
already loaded by the user's code.
"""

from __future__ import annotations

from typing import Any

from . import _nodes as n


def _clean(schema: Any, strict: bool) -> Any:
    """Drop pydantic's titles; in strict mode close objects and require every property."""
    if isinstance(schema, list):
        return [_clean(item, strict) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
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
                out["properties"][name] = {"anyOf": [prop, {"type": "null"}]}
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def _optional_fields(model: type) -> set[str]:
    return {name for name, field in model.model_fields.items() if not field.is_required()}


def pydantic_node(model: type, strict: bool) -> n.Node:
    import pydantic

    schema = _clean(model.model_json_schema(), strict)
    optional = _optional_fields(model) if strict else set()

    def validate(value: Any, path: tuple, errors: list) -> Any:
        if optional and isinstance(value, dict):
            # strict mode: null on an optional field means "use the model's default"
            value = {k: v for k, v in value.items() if not (v is None and k in optional)}
        try:
            return model.model_validate(value)
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                loc = path + tuple(error.get("loc", ()))
                errors.append((n.format_path(loc), error.get("msg", "invalid value")))
            return n.INVALID

    return n.ExternalNode(model.__name__, schema, validate)
