"""A tool's schema and coercion are a function of its own hints: never of what was built before.

``Union[int, float] == Union[float, int]`` in Python, so a cache keyed on equality let the first
order built win for the whole process.
"""

from __future__ import annotations

import dataclasses
import gc
import weakref
from typing import Literal, Optional, Union

from hypothesis import given, strategies as st

from toolkit import tool
from toolkit.schema import _build, coerce, type_schema

# pairs Python calls equal whose order (or kind) changes the schema and the coercion
HINTS = [Union[int, float], Union[float, int], Union[int, str], Union[str, int], list[Union[int, str]],
         list[Union[str, int]], Optional[Union[bool, int]], Optional[Union[int, bool]], Literal[1, 2],
         Literal[2, 1], dict[str, Union[float, str]], dict[str, Union[str, float]]]
PROBES = ["1", 1, 1.5, "x", True, [1, "2"], {"a": "1.5"}]


def _outcome(hint, probe):
    try:
        return ("ok", repr(coerce(hint, probe)))
    except Exception as exc:  # ArgumentError: the outcome is that it was refused
        return ("error", type(exc).__name__)


def _fresh(hint):
    _build._cache.clear()
    return type_schema(hint), [_outcome(hint, p) for p in PROBES]


FRESH = {i: _fresh(h) for i, h in enumerate(HINTS)}


@given(st.permutations(range(len(HINTS))))
def test_building_in_any_order_gives_the_same_schemas_and_coercions(order):
    _build._cache.clear()
    for i in order:
        hint = HINTS[i]
        assert (type_schema(hint), [_outcome(hint, p) for p in PROBES]) == FRESH[i], hint


def test_union_order_is_kept_after_the_other_order_was_built():
    type_schema(Union[float, int])
    assert type_schema(Union[int, float]) == {"anyOf": [{"type": "integer"}, {"type": "number"}]}
    assert type_schema(Union[float, int]) == {"anyOf": [{"type": "number"}, {"type": "integer"}]}

    @tool
    def a(x: Union[float, int]) -> None:
        """A."""

    @tool
    def b(x: Union[int, float]) -> None:
        """B."""

    assert repr(a.parse_arguments({"x": "1"})) == "{'x': 1.0}"
    assert repr(b.parse_arguments({"x": "1"})) == "{'x': 1}"


def test_cache_is_bounded_and_lets_classes_go():
    _build._cache.clear()

    def make():
        @dataclasses.dataclass
        class Point:
            x: int

        return Point

    point = make()
    type_schema(point)
    ref = weakref.ref(point)
    for i in range(_build.CACHE_SIZE + 10):
        type_schema(Literal[i])  # push the class out of the bounded cache
    assert len(_build._cache.data) <= _build.CACHE_SIZE
    del point
    gc.collect()
    assert ref() is None
