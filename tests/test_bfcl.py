"""The 150 BFCL definitions in shared/conformance: rebuilt as Python functions, @tool must give them back."""

from __future__ import annotations

import inspect
import json
import keyword
from typing import Annotated, Any, Literal, Optional

import pytest
from typing_extensions import NotRequired, Required, TypedDict

from toolkit import tool

from .conftest import SHARED

FUNCTIONS = json.loads((SHARED / "conformance" / "real_functions.json").read_text())["functions"]
SCALARS = {"string": str, "integer": int, "number": float, "boolean": bool, "Boolean": bool}


def hint_for(schema: dict, name: str) -> Any:
    kind = schema.get("type")
    if "enum" in schema and kind in SCALARS:
        return Literal[tuple(schema["enum"])]
    if kind in SCALARS:
        return SCALARS[kind]
    if kind == "array" and "enum" in schema:  # BFCL quirk: the enum of the items, put on the array
        return list[Literal[tuple(schema["enum"])]]
    if kind == "array":
        return list[hint_for(schema["items"], name)] if "items" in schema else list
    if kind == "object" and schema.get("properties"):
        required = set(schema.get("required", ()))
        fields = {}
        for prop, sub in schema["properties"].items():
            hint = hint_for(sub, prop)
            if sub.get("description"):
                hint = Annotated[hint, sub["description"]]
            fields[prop] = Required[hint] if prop in required else NotRequired[hint]
        return TypedDict(f"T_{name}", fields)
    if kind == "object":
        return dict[str, Any]
    return Any


def build_function(definition: dict):
    props = definition["parameters"].get("properties", {})
    required = set(definition["parameters"].get("required", ()))
    params, annotations = [], {}
    lines = [definition["description"], "", "Args:"]
    for name, schema in props.items():
        hint = hint_for(schema, name)
        if name in required:
            default = inspect.Parameter.empty
        else:
            default = schema.get("default", None)
            if default is None:
                hint = Optional[hint]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint))
        annotations[name] = hint
        if schema.get("description"):
            lines.append(f"    {name}: {' '.join(schema['description'].split())}")

    def function(**kwargs):
        return kwargs

    function.__signature__ = inspect.Signature(params)
    function.__annotations__ = annotations
    function.__doc__ = "\n".join(lines)
    function.__name__ = function.__qualname__ = definition["name"].replace(".", "_")
    return tool(function, name=definition["name"])


def usable(definition: dict) -> bool:
    return all(name.isidentifier() and not keyword.iskeyword(name)
               for name in definition["parameters"].get("properties", {}))


USABLE = [d for d in FUNCTIONS if usable(d)]


def test_nearly_every_definition_is_expressible():
    # parameter names that are not Python identifiers (e.g. "from") cannot be function parameters
    assert len(FUNCTIONS) == 150 and len(USABLE) >= 145


def strip_null(schema: dict) -> dict:
    options = schema.get("anyOf")
    if options and options[-1] == {"type": "null"} and len(options) == 2:
        merged = {**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
        return merged
    return schema


def compare(ours: dict, theirs: dict, path: str) -> None:
    ours = strip_null(ours)
    kind = theirs.get("type")
    expected_type = {"Boolean": "boolean", "any": None}.get(kind, kind)
    if expected_type is not None and not (kind == "object" and not theirs.get("properties")):
        assert ours.get("type") == expected_type, path
    if "enum" in theirs and kind == "array":
        assert ours["items"]["enum"] == theirs["enum"], path
    elif "enum" in theirs:
        assert ours["enum"] == theirs["enum"], path
    if theirs.get("description") and path.count(".") >= 1:
        assert ours.get("description") == " ".join(theirs["description"].split()), path
    if "items" in theirs and kind == "array":
        compare(ours["items"], theirs["items"], path + "[]")
    if kind == "object" and theirs.get("properties"):
        assert set(ours["properties"]) == set(theirs["properties"]), path
        assert set(ours.get("required", ())) == set(theirs.get("required", ())), path
        for name, sub in theirs["properties"].items():
            compare(ours["properties"][name], sub, f"{path}.{name}")


@pytest.mark.parametrize("definition", USABLE, ids=[d["name"] for d in USABLE])
def test_tool_reproduces_definition(definition):
    built = build_function(definition)
    assert built.name == definition["name"]
    assert built.description == " ".join(definition["description"].split()) or \
        built.description.replace("\n\n", " ") == " ".join(definition["description"].split())
    compare(built.parameters, definition["parameters"], definition["name"])
