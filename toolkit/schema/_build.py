"""Type hint -> node: one recursive dispatcher, one short branch per shape."""

from __future__ import annotations

import collections
import collections.abc as cabc
import dataclasses
import datetime
import decimal
import enum
import pathlib
import sys
import threading
import types
import typing
import uuid
from typing import Any

from .._exceptions import SchemaError
from . import _nodes as n

_NoneType = type(None)
_UNION_TYPES = (typing.Union, types.UnionType)
_LIST_ORIGINS = (list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection)
_SET_ORIGINS = (set, frozenset, cabc.Set, cabc.MutableSet)
_MAP_ORIGINS = (dict, cabc.Mapping, cabc.MutableMapping)
_REQUIRED_MARKERS = {"Required", "NotRequired", "ReadOnly"}

# Types whose JSON form is a string parsed into the Python value.
_STRING_TYPES: dict[type, tuple[dict[str, Any], Any, str]] = {
    datetime.datetime: ({"format": "date-time"}, None, "an ISO 8601 date-time string"),
    datetime.date: ({"format": "date"}, datetime.date.fromisoformat, "an ISO 8601 date string (YYYY-MM-DD)"),
    datetime.time: ({"format": "time"}, datetime.time.fromisoformat, "an ISO 8601 time string (HH:MM:SS)"),
    uuid.UUID: ({"format": "uuid"}, uuid.UUID, "a UUID string"),
    bytes: ({"contentEncoding": "base64"}, n.decode_base64, "a base64 string"),
}


def _parse_datetime(text: str) -> datetime.datetime:
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not take "Z"
        text = text[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(text)


_STRING_TYPES[datetime.datetime] = (_STRING_TYPES[datetime.datetime][0], _parse_datetime,
                                    _STRING_TYPES[datetime.datetime][2])


class Context:
    """State of one build: strict mode, records being built (for recursion), where we are."""

    def __init__(self, strict: bool = False, where: str = "", namespace: dict[str, Any] | None = None) -> None:
        self.strict = strict
        self.where = where
        self.building: dict[type, n.RecordNode] = {}
        #: where forward references are looked up (the module of the function or class)
        self.namespace = namespace or {}
        self.aliases: dict[str, n.AliasNode] = {}
        self.resolved: dict[tuple[int, str], n.Node] = {}

    def error(self, tp: Any, advice: str) -> SchemaError:
        where = f"{self.where}: " if self.where else ""
        return SchemaError(f"{where}cannot build a JSON Schema for type {_type_name(tp)}; {advice}")


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


#: Most type hints kept built. Keys hold the hint, so a class stays alive while its entry is in
#: the cache; the bound makes that temporary.
CACHE_SIZE = 512


class _LRU:
    """A small thread-safe LRU of built nodes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: collections.OrderedDict[Any, n.Node] = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> n.Node | None:
        with self.lock:
            node = self.data.get(key)
            if node is not None:
                self.data.move_to_end(key)
            return node

    def put(self, key: Any, node: n.Node) -> None:
        with self.lock:
            self.data[key] = node
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_cache = _LRU(CACHE_SIZE)


def cache_key(tp: Any) -> Any:  # noqa: D103 (documented below)
    """A key that tells apart hints Python calls equal: ``Union[int, float] == Union[float, int]``
    and ``Literal[1] == Literal[True]``-like cases differ in order or kind, which change the
    schema and the coercion. Classes are compared by identity, arguments in order."""
    if isinstance(tp, (str, typing.ForwardRef)):
        raise TypeError("a forward reference depends on its module: not cached")
    args = typing.get_args(tp)
    if not args:
        return (type(tp), tp)
    origin = typing.get_origin(tp)
    metadata = getattr(tp, "__metadata__", ())
    return (origin, tuple(cache_key(a) if not isinstance(a, (list, tuple)) else
                          tuple(cache_key(x) for x in a) for a in args),
            tuple((type(m), m) for m in metadata))


def node_for(tp: Any, strict: bool = False, where: str = "", namespace: dict[str, Any] | None = None) -> n.Node:
    """The (cached) node of a type hint: a function of the hint alone, whatever was built before.

    ``namespace`` resolves forward references left inside hints (recursive aliases)."""
    if type(tp) is type and tp in _SCALARS:
        return _SCALARS[tp]
    try:
        key = (cache_key(tp), strict)
        node = _cache.get(key)
    except TypeError:  # unhashable metadata inside Annotated, or a forward reference
        return build(tp, Context(strict, where, namespace))
    if node is not None:
        return node
    node = build(tp, Context(strict, where, namespace))
    _cache.put(key, node)
    return node


# Stateless nodes of the plain scalars, shared.
_SCALARS: dict[Any, n.Node] = {str: n.StrNode(), int: n.IntNode(), float: n.FloatNode(), bool: n.BoolNode(),
                               None: n.NoneNode(), _NoneType: n.NoneNode()}


def build(tp: Any, ctx: Context) -> n.Node:
    try:
        return _SCALARS[tp]
    except (KeyError, TypeError):
        pass
    # Any and no annotation: any JSON value
    if tp is Any or tp is typing.Any or tp is object:
        if ctx.strict:
            raise ctx.error(tp, "strict mode needs a concrete type; use strict=False or name the type")
        return n.AnyNode()
    if tp is None or tp is _NoneType:
        return n.NoneNode()
    if isinstance(tp, (str, typing.ForwardRef)):
        return _forward(tp, ctx)
    if isinstance(tp, typing.TypeVar):
        raise ctx.error(tp, "type variables have no schema; use a concrete type")
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:  # NewType
        return build(supertype, ctx)

    origin = typing.get_origin(tp)
    if origin is not None or _is_bare_generic(tp):
        return _generic(tp, origin, typing.get_args(tp), ctx)
    if not isinstance(tp, type):
        raise ctx.error(tp, "use a standard type such as str, int, list[str], a dataclass or a TypedDict")
    return _class(tp, ctx)


_BARE_GENERICS = frozenset({*_LIST_ORIGINS, *_SET_ORIGINS, *_MAP_ORIGINS, tuple, type, cabc.Callable})


def _is_bare_generic(tp: Any) -> bool:
    try:
        return tp in _BARE_GENERICS
    except TypeError:  # unhashable
        return False


def _generic(tp: Any, origin: Any, args: tuple[Any, ...], ctx: Context) -> n.Node:
    """Hints with arguments (``list[int]``, ``Union[...]``, ``Annotated[...]``) and bare generics."""
    if origin is typing.Annotated:
        return _annotated(args[0], tp.__metadata__, ctx)
    if origin is not None and getattr(origin, "_name", None) in _REQUIRED_MARKERS:
        return build(args[0], ctx)
    if origin in _UNION_TYPES:
        return _union(args, ctx)
    if origin is typing.Literal:
        values = list(args)
        return n.EnumNode(values, values)
    if origin in _LIST_ORIGINS or tp in _LIST_ORIGINS:
        return n.ArrayNode(build(args[0], ctx) if args else _any(ctx, tp))
    if origin in _SET_ORIGINS or tp in _SET_ORIGINS:
        kind = frozenset if (origin or tp) is frozenset else set
        return n.ArrayNode(build(args[0], ctx) if args else _any(ctx, tp), kind, unique=True)
    if origin is tuple or tp is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return n.ArrayNode(build(args[0], ctx) if args else _any(ctx, tp), tuple)
        if args == ((),):
            return n.TupleNode([])
        return n.TupleNode([build(arg, ctx) for arg in args])
    if origin in _MAP_ORIGINS or tp in _MAP_ORIGINS:
        return _mapping(tp, args, ctx)
    if origin is type or origin is cabc.Callable or tp is type or tp is cabc.Callable:
        raise ctx.error(tp, "classes and callables cannot be sent as JSON; take a name (str or Literal) instead")
    raise ctx.error(tp, "use a standard type such as str, int, list[str], a dataclass or a TypedDict")


def _class(tp: type, ctx: Context) -> n.Node:
    """Plain classes: scalars, enums, string-parsed types, then structured types."""
    # scalars (bool before int: bool is an int)
    if tp is bool:
        return n.BoolNode()
    if issubclass(tp, enum.Enum):
        members = list(tp)
        return n.EnumNode([m.value for m in members], members)
    if tp is int:
        return n.IntNode()
    if tp is float:
        return n.FloatNode()
    if tp is str:
        return n.StrNode()
    if issubclass(tp, decimal.Decimal):
        return n.DecimalNode(tp)
    if issubclass(tp, pathlib.PurePath):
        return n.ParsedStrNode({}, tp, "a file system path string")
    for known, (keywords, parse, what) in _STRING_TYPES.items():
        if tp is known:
            return n.ParsedStrNode(keywords, parse, what)
    if tp in (bytearray, memoryview):
        return n.ParsedStrNode({"contentEncoding": "base64"}, lambda s: tp(n.decode_base64(s)), "a base64 string")

    # structured types
    pydantic_node = _pydantic(tp, ctx)
    if pydantic_node is not None:
        return pydantic_node
    if dataclasses.is_dataclass(tp) or _is_typeddict(tp) or _is_namedtuple(tp):
        return _record(tp, ctx)
    raise ctx.error(tp, "use a standard type such as str, int, list[str], a dataclass, a TypedDict or a NamedTuple")


def _forward(tp: str | typing.ForwardRef, ctx: Context) -> n.Node:
    """A name left unresolved inside a hint (``list["JSON"]``): looked up in the module; a
    recursive alias refers back to itself through ``$defs``."""
    name = tp if isinstance(tp, str) else tp.__forward_arg__
    if name in ctx.aliases:
        alias = ctx.aliases[name]
        alias.recursive = True
        return n.RefNode(alias)  # type: ignore[arg-type]
    if (id(ctx.namespace), name) in ctx.resolved:
        return ctx.resolved[(id(ctx.namespace), name)]
    value: Any = ctx.namespace
    for i, part in enumerate(name.split(".")):
        value = value.get(part, _MISSING) if i == 0 else getattr(value, part, _MISSING)
        if value is _MISSING or not part.isidentifier():
            raise ctx.error(tp, "the forward reference could not be resolved; define the type at module level")
    alias = n.AliasNode(name.rsplit(".", 1)[-1])
    ctx.aliases[name] = alias
    try:
        alias.inner = build(value, ctx)
    finally:
        del ctx.aliases[name]
    node = alias if alias.recursive else alias.inner
    ctx.resolved[(id(ctx.namespace), name)] = node
    return node


_MISSING = object()


def _any(ctx: Context, tp: Any) -> n.Node:
    if ctx.strict:
        raise ctx.error(tp, "strict mode needs the item type, e.g. list[str]")
    return n.AnyNode()


def _union(args: tuple[Any, ...], ctx: Context) -> n.Node:
    options = [build(arg, ctx) for arg in args]
    # Optional[T] written as T | None: put null last so the real type is tried first
    options.sort(key=lambda node: isinstance(node, n.NoneNode))
    return options[0] if len(options) == 1 else n.UnionNode(options)


def _mapping(tp: Any, args: tuple[Any, ...], ctx: Context) -> n.Node:
    if ctx.strict:
        raise ctx.error(tp, "strict mode cannot express open maps (additionalProperties must be false); "
                            "use a dataclass or TypedDict with named keys, or strict=False")
    if not args:
        return n.MapNode(n.AnyNode())
    key_tp, value_tp = args
    keys = None
    if key_tp is not str:
        keys = build(key_tp, ctx)
        if not (isinstance(keys, n.EnumNode) and keys.type_name == "string"):
            raise ctx.error(tp, "JSON object keys are strings; use dict[str, V] (or string Literal/Enum keys)")
    return n.MapNode(build(value_tp, ctx), keys)


def _annotated(inner_tp: Any, metadata: tuple[Any, ...], ctx: Context) -> n.Node:
    from ._constraints import apply_metadata

    node = build(inner_tp, ctx)
    return apply_metadata(node, metadata, ctx)


def _td_required(tp: type, name: str, hint: Any) -> bool:
    """Required/NotRequired in the hint win (string annotations hide them from the class)."""
    marker = getattr(typing.get_origin(hint), "_name", None)
    if marker == "Required":
        return True
    if marker == "NotRequired":
        return False
    return name in getattr(tp, "__required_keys__", ()) if getattr(tp, "__total__", True) else False


def _is_typeddict(tp: type) -> bool:
    # duck-typed so typing_extensions.TypedDict counts too
    return issubclass(tp, dict) and hasattr(tp, "__required_keys__") and hasattr(tp, "__total__")


def _is_namedtuple(tp: type) -> bool:
    return issubclass(tp, tuple) and hasattr(tp, "_fields") and hasattr(tp, "__annotations__")


def _record(tp: type, ctx: Context) -> n.Node:
    if tp in ctx.building:  # recursion: refer back to the record being built
        target = ctx.building[tp]
        target.recursive = True
        return n.RefNode(target)
    cached = _cache.get(((type(tp), tp), ctx.strict))
    if cached is not None:
        return cached

    from ._docstrings import parse_docstring

    doc = parse_docstring(tp.__doc__ if tp.__doc__ and not _is_default_doc(tp) else "")
    try:
        hints = typing.get_type_hints(tp, include_extras=True)
    except Exception as exc:  # NameError for unresolved forward references, and friends
        raise SchemaError(f"{ctx.where + ': ' if ctx.where else ''}cannot resolve the type hints of "
                          f"{tp.__qualname__}: {exc}; define referenced types at module level") from exc

    if dataclasses.is_dataclass(tp):
        build_value = lambda values: tp(**values)  # noqa: E731
        members = []
        for f in dataclasses.fields(tp):
            if not f.init:
                continue
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            default = f.default if f.default is not dataclasses.MISSING else n.NO_DEFAULT
            members.append((f.name, hints.get(f.name, Any), not has_default, default))
    elif _is_typeddict(tp):
        build_value = None
        members = [(name, hint, _td_required(tp, name, hint), n.NO_DEFAULT) for name, hint in hints.items()]
    else:  # NamedTuple
        build_value = lambda values: tp(**values)  # noqa: E731
        defaults = getattr(tp, "_field_defaults", {})
        members = [(name, hints.get(name, Any), name not in defaults, defaults.get(name, n.NO_DEFAULT))
                   for name in getattr(tp, "_fields", ())]

    record = n.RecordNode(tp.__name__, build_value, strict=ctx.strict, description=doc.description or None)
    ctx.building[tp] = record
    outer_where, outer_namespace = ctx.where, ctx.namespace
    module = sys.modules.get(tp.__module__)
    ctx.namespace = vars(module) if module is not None else {}
    try:
        for name, hint, required, default in members:
            ctx.where = f"{outer_where + ': ' if outer_where else ''}{tp.__qualname__}.{name}"
            node = build(hint, ctx)
            if default is None and not node.nullable:
                node = n.UnionNode([node, n.NoneNode()])
            field = n.Field(name, node, required=required, default=default,
                            description=doc.params.get(name))
            field.strict_null_default = ctx.strict and not required
            record.fields[name] = field
    finally:
        ctx.where, ctx.namespace = outer_where, outer_namespace
        del ctx.building[tp]
    _cache.put(((type(tp), tp), ctx.strict), record)
    return record


def _is_default_doc(tp: type) -> bool:
    """Dataclasses and NamedTuples get a generated docstring such as 'Point(x, y)'."""
    doc = tp.__doc__ or ""
    return doc.startswith(tp.__name__ + "(") or doc.startswith(f"Create new instance of {tp.__name__}(")


def _pydantic(tp: type, ctx: Context) -> n.Node | None:
    """pydantic models, understood only when pydantic is already imported (never imported here)."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not issubclass(tp, pydantic.BaseModel):
        return None
    from ._pydantic import pydantic_node

    return pydantic_node(tp, ctx.strict)
