"""``Annotated[T, ...]`` metadata: descriptions and annotated-types constraints.

annotated-types (and pydantic's ``Field``) are recognised by duck typing, so neither is
imported here: a project that does not use them pays nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

from . import _nodes as n

# annotated-types class name -> (attribute, JSON Schema keyword, check, message)
_BOUNDS = {
    "Gt": ("gt", "exclusiveMinimum", operator.gt, "must be greater than {}"),
    "Ge": ("ge", "minimum", operator.ge, "must be greater than or equal to {}"),
    "Lt": ("lt", "exclusiveMaximum", operator.lt, "must be less than {}"),
    "Le": ("le", "maximum", operator.le, "must be less than or equal to {}"),
    "MultipleOf": ("multiple_of", "multipleOf", None, "must be a multiple of {}"),
}


def _length_keywords(node: n.Node) -> tuple[str, str]:
    inner = node
    while isinstance(inner, n.ConstrainedNode):
        inner = inner.inner
    if isinstance(inner, (n.ArrayNode, n.TupleNode)):
        return "minItems", "maxItems"
    if isinstance(inner, (n.MapNode, n.RecordNode)):
        return "minProperties", "maxProperties"
    return "minLength", "maxLength"


def _multiple_of(value: Any, step: Any) -> bool:
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    quotient = value / step
    return bool(abs(quotient - round(quotient)) < 1e-9)


def apply_metadata(node: n.Node, metadata: tuple[Any, ...], ctx: Any) -> n.Node:
    keywords: dict[str, Any] = {}
    checks: list[Any] = []
    for item in _flatten(metadata):
        if isinstance(item, str):
            keywords["description"] = item
            continue
        kind = type(item).__name__
        module = type(item).__module__ or ""
        if module.startswith("pydantic") and hasattr(item, "metadata"):  # pydantic FieldInfo
            if getattr(item, "description", None):
                keywords["description"] = item.description
            sub = apply_metadata(node, tuple(item.metadata), ctx)
            if isinstance(sub, n.ConstrainedNode):
                keywords = {**sub.keywords, **keywords}
                checks.extend(sub.checks)
            continue
        if module != "annotated_types" and not module.startswith("pydantic"):
            continue  # other metadata is the user's business
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):  # pydantic Field(pattern=...)
            import re

            compiled = re.compile(pattern)
            keywords["pattern"] = pattern
            checks.append((lambda v, c=compiled: isinstance(v, str) and c.search(v) is not None,
                           f"must match the pattern {pattern!r}"))
        if kind in _BOUNDS:
            attr, keyword, op, message = _BOUNDS[kind]
            bound = getattr(item, attr)
            keywords[keyword] = bound
            if op is None:
                checks.append((lambda v, b=bound: _multiple_of(v, b), message.format(bound)))
            else:
                checks.append((lambda v, b=bound, o=op: o(v, b), message.format(bound)))
        elif kind in ("MinLen", "MaxLen", "Len"):
            low_kw, high_kw = _length_keywords(node)
            low = getattr(item, "min_length", None) if kind != "MaxLen" else None
            high = getattr(item, "max_length", None) if kind != "MinLen" else None
            if low:
                keywords[low_kw] = low
                checks.append((lambda v, b=low: len(v) >= b, f"must have at least {low} items/characters"))
            if high is not None:
                keywords[high_kw] = high
                checks.append((lambda v, b=high: len(v) <= b, f"must have at most {high} items/characters"))
    if not keywords and not checks:
        return node
    return n.ConstrainedNode(node, keywords, checks)


def _flatten(metadata: tuple[Any, ...]) -> Iterator[Any]:
    """annotated-types' Interval (and other GroupedMetadata) expand into their parts."""
    for item in metadata:
        if type(item).__module__ == "annotated_types" and hasattr(item, "__iter__") and not isinstance(item, str):
            yield from item
        else:
            yield item
