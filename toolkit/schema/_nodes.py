"""Compiled type nodes: each knows its JSON Schema and how to coerce a JSON value.

A node is built once per type hint (see ``_build.py``) and then used for every call.
``coerce(value, path, errors, lenient)`` returns the Python value, or ``INVALID`` after
appending ``(path, message)`` to ``errors``. ``lenient=False`` accepts only the exact JSON
kinds of the schema; unions try every branch that way before trying the lenient forms
models really send (``"42"`` for 42, ``"true"`` for true, an array encoded as a string).
"""

from __future__ import annotations

from ._compound import (
    AliasNode,
    ArrayNode,
    ConstrainedNode,
    ExternalNode,
    Field,
    MapNode,
    RecordNode,
    RefNode,
    TupleNode,
    UnionNode,
)
from ._node_base import INVALID, NO_DEFAULT, Defs, Node, describe, format_path, json_kind
from ._scalars import (
    AnyNode,
    BoolNode,
    DecimalNode,
    EnumNode,
    FloatNode,
    IntNode,
    NoneNode,
    ParsedStrNode,
    StrNode,
    decode_base64,
)

__all__ = [
    "INVALID",
    "NO_DEFAULT",
    "AliasNode",
    "AnyNode",
    "ArrayNode",
    "BoolNode",
    "ConstrainedNode",
    "DecimalNode",
    "Defs",
    "EnumNode",
    "ExternalNode",
    "Field",
    "FloatNode",
    "IntNode",
    "MapNode",
    "Node",
    "NoneNode",
    "ParsedStrNode",
    "RecordNode",
    "RefNode",
    "StrNode",
    "TupleNode",
    "UnionNode",
    "decode_base64",
    "describe",
    "format_path",
    "json_kind",
]
