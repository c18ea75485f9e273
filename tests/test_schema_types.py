"""Every type of the foundation table: its whole schema, and its coercion."""

from __future__ import annotations

import datetime
import decimal
import pathlib
import sys
import uuid
from typing import Annotated, Any, Dict, FrozenSet, List, Literal, Mapping, Optional, Sequence, Tuple, Union

import annotated_types as at
import pytest

from toolkit import ArgumentError, SchemaError
from toolkit.schema import coerce, type_schema

from .types_fixtures import Address, Color, Employee, Level, Movie, Options, Person, Point, TreeNode, Unit

ADDRESS = {
    "type": "object",
    "description": "A postal address.",
    "properties": {
        "street": {"type": "string", "description": "Street and number."},
        "city": {"type": "string", "description": "City name.", "default": "Paris"},
    },
    "required": ["street"],
    "additionalProperties": False,
}

SCHEMAS = [
    (str, {"type": "string"}),
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (bool, {"type": "boolean"}),
    (None, {"type": "null"}),
    (Any, {}),
    (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    (None | str, {"anyOf": [{"type": "string"}, {"type": "null"}]}),
    (Union[int, str], {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
    (list[int], {"type": "array", "items": {"type": "integer"}}),
    (List[str], {"type": "array", "items": {"type": "string"}}),
    (Sequence[float], {"type": "array", "items": {"type": "number"}}),
    (list, {"type": "array"}),
    (tuple[int, str], {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                       "items": False, "minItems": 2, "maxItems": 2}),
    (Tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
    (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
    (FrozenSet[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
    (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
    (Mapping[str, Any], {"type": "object"}),
    (Dict[Literal["a", "b"], int], {"type": "object", "additionalProperties": {"type": "integer"},
                                    "propertyNames": {"type": "string", "enum": ["a", "b"]}}),
    (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
    (Literal[1, "a", None], {"enum": [1, "a", None]}),
    (Color, {"type": "string", "enum": ["red", "green"]}),
    (Level, {"type": "integer", "enum": [1, 2]}),
    (Unit, {"type": "string", "enum": ["celsius", "fahrenheit"]}),
    (datetime.datetime, {"type": "string", "format": "date-time"}),
    (datetime.date, {"type": "string", "format": "date"}),
    (datetime.time, {"type": "string", "format": "time"}),
    (uuid.UUID, {"type": "string", "format": "uuid"}),
    (pathlib.Path, {"type": "string"}),
    (decimal.Decimal, {"type": "number"}),
    (bytes, {"type": "string", "contentEncoding": "base64"}),
    (Address, ADDRESS),
    (Person, {"type": "object", "properties": {
        "name": {"type": "string"}, "address": ADDRESS,
        "nicknames": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "address"], "additionalProperties": False}),
    (Movie, {"type": "object", "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
             "required": ["title"], "additionalProperties": False}),
    (Options, {"type": "object", "properties": {"verbose": {"type": "boolean"}, "level": {"type": "integer"}},
               "required": ["level"], "additionalProperties": False}),
    (Point, {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number", "default": 0.0}},
             "required": ["x"], "additionalProperties": False}),
    (TreeNode, {"$ref": "#/$defs/TreeNode", "$defs": {"TreeNode": {
        "type": "object", "properties": {"value": {"type": "integer"},
                                         "children": {"type": "array", "items": {"$ref": "#/$defs/TreeNode"}}},
        "required": ["value"], "additionalProperties": False}}}),
    (Employee, {"$ref": "#/$defs/Employee", "$defs": {"Employee": {
        "type": "object", "properties": {
            "name": {"type": "string"},
            "manager": {"anyOf": [{"$ref": "#/$defs/Employee"}, {"type": "null"}], "default": None}},
        "required": ["name"], "additionalProperties": False}}}),
    (Annotated[str, "A city name"], {"type": "string", "description": "A city name"}),
    (Annotated[int, at.Ge(1), at.Le(10)], {"type": "integer", "minimum": 1, "maximum": 10}),
    (Annotated[float, at.Gt(0), at.Lt(1)], {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
    (Annotated[int, at.MultipleOf(5)], {"type": "integer", "multipleOf": 5}),
    (Annotated[str, at.MinLen(2), at.MaxLen(5)], {"type": "string", "minLength": 2, "maxLength": 5}),
    (Annotated[list[int], at.MaxLen(3)], {"type": "array", "items": {"type": "integer"}, "maxItems": 3}),
    (Annotated[int, at.Interval(ge=0, lt=100)], {"type": "integer", "minimum": 0, "exclusiveMaximum": 100}),
]


@pytest.mark.parametrize("tp, expected", SCHEMAS, ids=[repr(tp) for tp, _ in SCHEMAS])
def test_type_schema(tp, expected):
    assert type_schema(tp) == expected


COERCIONS = [
    (int, "42", 42),
    (int, 3.0, 3),
    (float, "2.5", 2.5),
    (float, 2, 2.0),
    (bool, "true", True),
    (bool, "False", False),
    (str, "x", "x"),
    (Optional[int], None, None),
    (Union[int, str], "42", "42"),  # an exact match beats a lenient one
    (Union[int, bool], "true", True),
    (list[int], "[1, 2]", [1, 2]),
    (tuple[int, str], [1, "a"], (1, "a")),
    (tuple[int, ...], [1, "2"], (1, 2)),
    (set[int], [1, 2], {1, 2}),
    (frozenset[str], ["a"], frozenset({"a"})),
    (dict[str, float], '{"a": 1}', {"a": 1.0}),
    (Literal["a", 1], 1, 1),
    (Literal["a", 1], "1", 1),
    (Color, "red", Color.RED),
    (Level, 2, Level.HIGH),
    (Unit, "celsius", Unit.C),
    (datetime.datetime, "2024-05-01T12:30:00Z",
     datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)),
    (datetime.date, "2024-05-01", datetime.date(2024, 5, 1)),
    (datetime.time, "12:30:00", datetime.time(12, 30)),
    (uuid.UUID, "12345678-1234-5678-1234-567812345678", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    (pathlib.Path, "/tmp/x", pathlib.Path("/tmp/x")),
    (decimal.Decimal, 1.1, decimal.Decimal("1.1")),
    (decimal.Decimal, "3.14159265358979323846", decimal.Decimal("3.14159265358979323846")),
    (bytes, "aGVsbG8=", b"hello"),
    (Address, {"street": "1 Rue"}, Address("1 Rue")),
    (Person, '{"name": "Ann", "address": {"street": "s", "city": "Rome"}}', Person("Ann", Address("s", "Rome"))),
    (Movie, {"title": "Up"}, {"title": "Up"}),
    (Point, {"x": "1"}, Point(1.0)),
    (TreeNode, {"value": 1, "children": [{"value": 2}]}, TreeNode(1, [TreeNode(2)])),
    (Employee, {"name": "a", "manager": {"name": "b"}}, Employee("a", Employee("b"))),
    (Annotated[int, at.Ge(1)], "5", 5),
    (Any, {"x": [1]}, {"x": [1]}),
]


@pytest.mark.parametrize("tp, value, expected", COERCIONS, ids=[f"{tp!r}-{v!r}" for tp, v, _ in COERCIONS])
def test_coerce(tp, value, expected):
    result = coerce(tp, value)
    assert result == expected
    assert type(result) is type(expected)


BAD = [
    (int, "abc", [("", "expected an integer, got string \"abc\"")]),
    (int, True, [("", "expected an integer, got true")]),
    (int, 1.5, [("", "expected an integer, got number 1.5")]),
    (bool, 1, [("", "expected a boolean (true or false), got integer 1")]),
    (Literal["a", "b"], "c", [("", 'expected one of "a", "b", got string "c"')]),
    (list[int], [1, "x", None], [("[1]", 'expected an integer, got string "x"'), ("[2]", "expected an integer, got null")]),
    (tuple[int, int], [1], [("", "expected exactly 2 items, got 1")]),
    (set[int], [1, 1], [("", "array items must be unique")]),
    (Address, {"city": 3, "zip": "x"}, [("street", "required property is missing"),
                                         ("city", "expected a string, got integer 3"),
                                         ("zip", "unknown property (known: street, city)")]),
    (Annotated[int, at.Ge(1), at.Le(10)], 11, [("", "must be less than or equal to 10, got integer 11")]),
    (Annotated[str, at.MinLen(2)], "a", [("", 'must have at least 2 items/characters, got string "a"')]),
    (datetime.date, "yesterday", [("", 'expected an ISO 8601 date string (YYYY-MM-DD), got string "yesterday"')]),
    (bytes, "not base64!", [("", 'expected a base64 string, got string "not base64!"')]),
    (float, "nan", [("", 'expected a number, got string "nan"')]),
]


@pytest.mark.parametrize("tp, value, problems", BAD, ids=[f"{tp!r}-{v!r}" for tp, v, _ in BAD])
def test_coerce_reports_every_problem(tp, value, problems):
    with pytest.raises(ArgumentError) as info:
        coerce(tp, value)
    assert info.value.problems == problems
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("tp", [type, complex, object.__class__, Dict[int, str], list["Nope"]])  # noqa: F821
def test_unsupported_types_raise_schema_error(tp):
    with pytest.raises(SchemaError, match="cannot build a JSON Schema"):
        type_schema(tp)


def test_strict_mode_rejects_open_maps_and_any():
    with pytest.raises(SchemaError, match="open maps"):
        type_schema(dict[str, int], strict=True)
    with pytest.raises(SchemaError, match="strict mode needs a concrete type"):
        type_schema(Any, strict=True)


def test_strict_record_is_closed_required_and_nullable():
    assert type_schema(Address, strict=True) == {
        "type": "object", "description": "A postal address.",
        "properties": {"street": {"type": "string", "description": "Street and number."},
                       "city": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "City name."}},
        "required": ["street", "city"], "additionalProperties": False}
    assert coerce(Address, {"street": "s", "city": None}, strict=True) == Address("s", "Paris")


def test_pydantic_model_uses_its_own_schema_and_validation():
    import pydantic

    class Item(pydantic.BaseModel):
        name: str
        price: float = 1.0

    assert type_schema(Item) == {"type": "object", "properties": {
        "name": {"type": "string"}, "price": {"type": "number", "default": 1.0}}, "required": ["name"]}
    assert coerce(Item, {"name": "x", "price": "2"}) == Item(name="x", price=2.0)
    with pytest.raises(ArgumentError) as info:
        coerce(list[Item], [{"price": "x"}])
    assert [path for path, _ in info.value.problems] == ["[0].name", "[0].price"]


def test_pydantic_is_not_imported_by_toolkit():
    import subprocess

    code = "import sys, toolkit; from toolkit.schema import type_schema; type_schema(list[int]); print('pydantic' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
