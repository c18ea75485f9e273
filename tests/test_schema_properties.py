"""Property tests: random type hints, their schemas, values and coercion."""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import math
from typing import Literal, Optional, Tuple, Union

import jsonschema
from hypothesis import assume, given, strategies as st
from typing_extensions import TypedDict

from toolkit import ArgumentError
from toolkit.schema import coerce, type_schema

_names = itertools.count()
VALIDATOR = jsonschema.Draft202012Validator

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)

# Each drawn entry is (type hint, strategy of values, set of JSON kinds its values take).
PRIMITIVES = [
    (int, st.integers(), {"number"}),
    (float, finite_floats, {"number"}),
    (str, texts, {"string"}),
    (bool, st.booleans(), {"boolean"}),
    (type(None), st.none(), {"null"}),
]


@st.composite
def literal_types(draw):
    values = draw(st.lists(st.one_of(st.integers(-5, 5), st.sampled_from(["a", "b", "c d"]), st.booleans()),
                           min_size=1, max_size=4, unique_by=lambda v: (type(v), v)))
    kinds = {"boolean" if isinstance(v, bool) else "number" if isinstance(v, int) else "string" for v in values}
    return Literal[tuple(values)], st.sampled_from(values), kinds


@st.composite
def enum_types(draw):
    values = draw(st.lists(st.sampled_from(["x", "y", "z", "w"]), min_size=1, max_size=3, unique=True))
    cls = enum.Enum(f"E{next(_names)}", {v.upper(): v for v in values})
    return cls, st.sampled_from(list(cls)), {"string"}


def containers(inner):
    def list_of(entry):
        tp, values, _ = entry
        return list[tp], st.lists(values, max_size=3), {"array"}

    def tuple_of(entry):
        tp, values, _ = entry
        return Tuple[tp, ...], st.lists(values, max_size=3).map(tuple), {"array"}

    def pair_of(entries):
        (a, va, _), (b, vb, _) = entries
        return tuple[a, b], st.tuples(va, vb), {"array"}

    def dict_of(entry):
        tp, values, _ = entry
        return dict[str, tp], st.dictionaries(keys, values, max_size=3), {"object"}

    def optional_of(entry):
        tp, values, kinds = entry
        return Optional[tp], st.one_of(st.none(), values), kinds | {"null"}

    @st.composite
    def union_of(draw):
        entries = draw(st.lists(inner, min_size=2, max_size=3))
        seen: set = set()
        for _, _, kinds in entries:  # branches of distinct JSON kinds keep the union unambiguous
            assume(not (kinds & seen))
            seen |= kinds
        return (Union[tuple(tp for tp, _, _ in entries)], st.one_of([v for _, v, _ in entries]), seen)

    @st.composite
    def dataclass_of(draw):
        entries = draw(st.lists(inner, min_size=1, max_size=3))
        names = [f"f{i}" for i in range(len(entries))]
        cls = dataclasses.make_dataclass(f"D{next(_names)}", [(name, tp) for name, (tp, _, _) in zip(names, entries)])
        return cls, st.builds(cls, **{name: v for name, (_, v, _) in zip(names, entries)}), {"object"}

    @st.composite
    def typeddict_of(draw):
        entries = draw(st.lists(inner, min_size=1, max_size=3))
        total = draw(st.booleans())
        names = [f"k{i}" for i in range(len(entries))]
        cls = TypedDict(f"T{next(_names)}", {name: tp for name, (tp, _, _) in zip(names, entries)}, total=total)
        fields = {name: v for name, (_, v, _) in zip(names, entries)}
        values = st.fixed_dictionaries(fields) if total else st.fixed_dictionaries({}, optional=fields)
        return cls, values, {"object"}

    return st.one_of(inner.map(list_of), inner.map(tuple_of), st.tuples(inner, inner).map(pair_of),
                     inner.map(dict_of), inner.map(optional_of), union_of(), dataclass_of(), typeddict_of())


type_entries = st.recursive(st.one_of(st.sampled_from(PRIMITIVES), literal_types(), enum_types()),
                            containers, max_leaves=6)


def to_json(value):
    """A Python value as the JSON a model would send."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def roundtrip(value):
    return json.loads(json.dumps(to_json(value)))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), finite_floats, texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8)


def _has_lenient_form(value) -> bool:
    """Strings and integral floats are channels coerce reads leniently ("42", 3.0)."""
    if isinstance(value, str) or (isinstance(value, float) and value.is_integer()):
        return True
    if isinstance(value, list):
        return any(_has_lenient_form(v) for v in value)
    if isinstance(value, dict):
        return any(_has_lenient_form(v) for v in value.values())
    return False


@given(type_entries)
def test_schema_is_valid_draft_2020_12(entry):
    tp, _, _ = entry
    VALIDATOR.check_schema(type_schema(tp))


@given(st.data())
def test_values_validate_and_round_trip(data):
    tp, values, _ = data.draw(type_entries)
    value = data.draw(values)
    schema = type_schema(tp)
    encoded = roundtrip(value)
    VALIDATOR(schema).validate(encoded)
    assert coerce(tp, encoded) == value


@given(type_entries, json_values)
def test_non_matching_values_raise_argument_error(entry, value):
    tp, _, _ = entry
    schema = type_schema(tp)
    valid = VALIDATOR(schema).is_valid(value)
    try:
        result = coerce(tp, value)
    except ArgumentError:
        return
    # whatever coerce accepts must, once encoded, fit the schema...
    assert VALIDATOR(schema).is_valid(roundtrip(result)), (value, result)
    # ...and only a schema-valid value, or a documented lenient form, is accepted at all
    assert valid or _has_lenient_form(value), (value, result)


def test_lenient_forms_are_the_only_exceptions():
    assert coerce(int, "7") == 7 and coerce(list[int], "[1]") == [1]
    assert not math.isnan(coerce(float, "1e3"))
