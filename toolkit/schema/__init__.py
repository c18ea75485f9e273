"""Type hints and docstrings -> JSON Schema (draft 2020-12); JSON values -> Python values.

>>> type_schema(list[int])
{'type': 'array', 'items': {'type': 'integer'}}
>>> coerce(list[int], ["1", 2.0])
[1, 2]
"""

from __future__ import annotations

from typing import Any

from .._exceptions import ArgumentError, SchemaError
from ._build import node_for
from ._docstrings import ParsedDoc, parse_docstring
from ._nodes import INVALID, Defs

__all__ = ["ParsedDoc", "SchemaError", "coerce", "node_for", "parse_docstring", "type_schema"]


def type_schema(tp: Any, *, strict: bool = False) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one type hint.

    Recursive types are emitted once under ``$defs`` and referred to with ``$ref``.

    Raises:
        SchemaError: the type has no JSON form (say what to use instead).
    """
    defs = Defs()
    return defs.attach(node_for(tp, strict).schema(defs))


def coerce(tp: Any, value: Any, *, strict: bool = False) -> Any:
    """Turn a JSON value into the Python value of type ``tp``.

    Accepts the exact JSON kinds and the lenient forms models send: numeric strings for
    numbers, "true"/"false" for booleans, integral floats for ints, objects and arrays
    encoded as JSON strings, Enum/Literal by value, ISO strings for dates.

    Raises:
        ArgumentError: with every problem found, as (path, message) pairs.
        SchemaError: ``tp`` itself has no JSON form.
    """
    errors: list[Any] = []
    result = node_for(tp, strict).coerce(value, (), errors)
    if errors or result is INVALID:
        raise ArgumentError(errors or [("", "invalid value")])
    return result
