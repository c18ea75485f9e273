"""How ``@tool`` reads a function: its signature, type hints and docstring, as schema nodes.

Loaded by the first ``Tool`` built, so ``import toolkit`` stays light.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from ._exceptions import SchemaError
from .schema import _nodes as n, node_for, parse_docstring
from .tool import NO_FILL, Injected, RunContext, Tool, _Param, _qualname


def parameters_schema(record: n.RecordNode) -> dict[str, Any]:
    """The record's JSON Schema, its recursive types under ``$defs``."""
    defs = n.Defs()
    return defs.attach(record.schema(defs))


def is_coroutine(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def _injection(hint: Any) -> str | None:
    """'run' for RunContext, 'value' for Annotated[T, Injected], else None."""
    if hint is RunContext or typing.get_origin(hint) is RunContext:
        return "run"
    if typing.get_origin(hint) is typing.Annotated:
        if any(item is Injected for item in hint.__metadata__):
            return "value"
        return _injection(typing.get_args(hint)[0])
    return None


def analyse(tool: Tool, docs: dict[str, str]) -> tuple[n.RecordNode, list[_Param]]:
    """The tool's parameters as a record node (its schema and coercion), and how to pass each."""
    func = tool._func
    where = f"tool {tool.name!r} ({_qualname(func)})"
    try:
        signature = _signature(func)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: cannot read the signature: {exc}") from exc
    hints = _resolved_hints(func, where)
    target = inspect.unwrap(func.func if isinstance(func, functools.partial) else func)
    tool._namespace = getattr(target, "__globals__", None) or {}
    record = n.RecordNode(tool.name, None, strict=tool.strict)
    params: list[_Param] = []
    items = signature
    if tool._binding is not None and items:
        items = items[1:]  # the instance / class never appears in the schema
    has_var_args = any(p.kind is _KINDS.VAR_POSITIONAL for p in items)
    for param in items:
        hint = hints.get(param.name, Any)
        injected = _injection(hint)
        default, field_info = _field_default(param.default)
        fill = NO_FILL
        if field_info is not None or (has_var_args and param.kind is _KINDS.POSITIONAL_OR_KEYWORD):
            fill = default  # passed explicitly when the model leaves it out
        params.append(_Param(param.name, param.kind, injected, fill))
        if injected:
            continue
        if field_info is not None:
            hint = typing.Annotated[hint, field_info]
        _add_field(tool, record, param, hint, default, field_info, docs, f"{where}, parameter {param.name!r}")
    return record, params

def _add_field(tool: Tool, record: n.RecordNode, param: _Sig, hint: Any, default: Any, field_info: Any,
               docs: Mapping[str, str], where: str) -> None:
    if param.kind is _KINDS.VAR_KEYWORD:
        if tool.strict:
            raise SchemaError(f"{where}: strict mode cannot express **kwargs (every object must be closed); "
                              f"name the parameters or use strict=False")
        record.extra = _node(hint, False, where, tool._namespace)
        return
    if param.kind is _KINDS.VAR_POSITIONAL:
        node: n.Node = n.ArrayNode(_node(hint, tool.strict, where, tool._namespace), tuple)
        field = n.Field(param.name, node, required=False, default=n.NO_DEFAULT, description=docs.get(param.name))
        field.strict_null_default = tool.strict
        record.fields[param.name] = field
        return
    node = _node(hint, tool.strict, where, tool._namespace)
    has_default = default is not _KINDS.empty
    if has_default and default is None and not node.nullable:
        node = n.UnionNode([node, n.NoneNode()])  # `= None` makes it nullable
    description = getattr(field_info, "description", None) or docs.get(param.name)
    field = n.Field(param.name, node, required=not has_default,
                    default=default if has_default else n.NO_DEFAULT, description=description)
    field.strict_null_default = tool.strict and has_default
    record.fields[param.name] = field


_KINDS = inspect.Parameter


class _Sig(typing.NamedTuple):
    name: str
    kind: inspect._ParameterKind
    default: Any


def _signature(func: Callable[..., Any]) -> list[_Sig]:
    """(name, kind, default) of each parameter; read straight off the code object for plain
    functions, which is several times faster than inspect.signature."""
    if not inspect.isfunction(func) or hasattr(func, "__wrapped__") or hasattr(func, "__signature__"):
        return [_Sig(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]
    code = func.__code__
    names = code.co_varnames
    positional = code.co_argcount
    kwonly = code.co_kwonlyargcount
    defaults = func.__defaults__ or ()
    kwdefaults = func.__kwdefaults__ or {}
    empty = _KINDS.empty
    params = []
    first_default = positional - len(defaults)
    for i in range(positional):
        kind = _KINDS.POSITIONAL_ONLY if i < code.co_posonlyargcount else _KINDS.POSITIONAL_OR_KEYWORD
        params.append(_Sig(names[i], kind, defaults[i - first_default] if i >= first_default else empty))
    index = positional + kwonly
    if code.co_flags & inspect.CO_VARARGS:
        params.append(_Sig(names[index], _KINDS.VAR_POSITIONAL, empty))
        index += 1
    for name in names[positional:positional + kwonly]:
        params.append(_Sig(name, _KINDS.KEYWORD_ONLY, kwdefaults.get(name, empty)))
    if code.co_flags & inspect.CO_VARKEYWORDS:
        params.append(_Sig(names[index], _KINDS.VAR_KEYWORD, empty))
    return params


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The resolved type hints; plain (non-string) annotations skip get_type_hints' evaluation."""
    if isinstance(func, functools.partial):
        func = func.func
    if hasattr(func, "__wrapped__"):
        func = inspect.unwrap(func)
    elif not inspect.isfunction(func) and not inspect.ismethod(func) and callable(func):
        func = type(func).__call__
    annotations = getattr(func, "__annotations__", None)
    if annotations is not None and not any(isinstance(v, str) for v in annotations.values()):
        return {k: (type(None) if v is None else v) for k, v in annotations.items()}
    if inspect.isfunction(func):
        # string annotations (`from __future__ import annotations`): inspect evaluates each string
        # once, a third faster than typing.get_type_hints; strings nested inside a hint
        # (list["Node"]) still need get_type_hints
        try:
            evaluated = inspect.get_annotations(func, eval_str=True)
        except Exception:  # an unresolvable name: get_type_hints reports it below
            evaluated = None
        if evaluated is not None and not any(_has_forward_ref(v) for v in evaluated.values()):
            return {k: (type(None) if v is None else v) for k, v in evaluated.items()}
    return typing.get_type_hints(func, include_extras=True)


def _has_forward_ref(hint: Any) -> bool:
    if isinstance(hint, (str, typing.ForwardRef)):
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return False  # its strings are values
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        args = args[:1]  # its strings are descriptions
    return any(_has_forward_ref(arg) for arg in args)


def _node(hint: Any, strict: bool, where: str, namespace: dict[str, Any] | None = None) -> n.Node:
    try:
        return node_for(hint, strict, where, namespace)
    except SchemaError as exc:
        if str(exc).startswith(where):
            raise
        raise SchemaError(f"{where}: {exc}") from None


def unwrap(func: Any) -> tuple[Callable[..., Any], str | None]:
    """The function to analyse, and how it binds: None, 'instance' or 'class'.

    The descriptor decides: a ``staticmethod`` binds nothing, a ``classmethod`` the class, a
    function defined in a class body the instance (whatever its first parameter is called),
    a bound method is already bound.
    """
    if isinstance(func, Tool):
        return func._func, func._binding
    if isinstance(func, staticmethod):
        return func.__func__, None
    if isinstance(func, classmethod):
        return func.__func__, "class"
    if inspect.ismethod(func) or isinstance(func, functools.partial):
        return func, None  # already bound: the signature has no self
    if inspect.isfunction(func):
        code = func.__code__
        qualname = func.__qualname__.split(".")
        in_class = len(qualname) > 1 and qualname[-2] != "<locals>"
        if in_class and code.co_argcount + code.co_posonlyargcount > 0 and not hasattr(func, "__wrapped__"):
            return func, "instance"
        return func, None
    if callable(func):
        if hasattr(func, "__wrapped__"):  # made with functools.update_wrapper / wraps
            return func, None
        return func.__call__, None  # a callable object: its bound __call__
    raise SchemaError(f"@tool needs a function or callable object, got {type(func).__name__}")


def docs(original: Any, target: Any) -> Any:
    """The parsed docstring: a callable object's class docstring gives the description, its
    ``__call__`` docstring the parameters (either may hold both); wrappers and partials are read
    through to the function they wrap."""
    if isinstance(original, functools.partial):
        return parse_docstring(inspect.unwrap(original.func).__doc__)
    if _is_instance(original) and not hasattr(original, "__wrapped__"):
        own = parse_docstring(type(original).__doc__)
        call = parse_docstring(getattr(type(original).__call__, "__doc__", None))
        return type(own)(own.description or call.description, {**own.params, **call.params},
                         call.returns or own.returns)
    return parse_docstring(inspect.unwrap(target).__doc__ if hasattr(target, "__wrapped__") else target.__doc__)


def _field_default(default: Any) -> tuple[Any, Any]:
    """A pydantic ``Field(...)`` given as a parameter default -> (the real default or empty, the FieldInfo)."""
    kind = type(default)
    if not (kind.__module__.startswith("pydantic") and kind.__name__ == "FieldInfo"):
        return default, None
    factory = getattr(default, "default_factory", None)
    if factory is not None:
        return factory(), default
    if default.is_required():
        return _KINDS.empty, default
    return default.default, default


def _resolved_hints(func: Callable[..., Any], where: str) -> dict[str, Any]:
    """The function's resolved hints; a SchemaError names the parameter whose hint fails."""
    try:
        return _hints(func)
    except Exception as exc:  # NameError for an unresolved forward reference, and friends
        target = inspect.unwrap(func.func if isinstance(func, functools.partial) else func)
        annotations = getattr(target, "__annotations__", {}) or {}
        globalns = getattr(target, "__globals__", {})
        for name, annotation in annotations.items():
            probe = types.SimpleNamespace(__annotations__={name: annotation}, __globals__=globalns)
            try:
                typing.get_type_hints(probe, globalns=globalns)
            except Exception as inner:
                what = "the return type" if name == "return" else f"parameter {name!r}"
                raise SchemaError(f"{where}, {what}: cannot resolve the type hint {annotation!r}: {inner}; import "
                                  f"or define the referenced types at module level") from inner
        raise SchemaError(f"{where}: cannot resolve the type hints: {exc}; import or define the referenced "
                          f"types at module level") from exc


def _is_instance(func: Any) -> bool:
    return callable(func) and not isinstance(func, (staticmethod, classmethod, Tool, functools.partial)) and \
        not inspect.isfunction(func) and not inspect.ismethod(func)


def default_name(original: Any, target: Callable[..., Any]) -> str:
    if isinstance(original, functools.partial):
        return str(getattr(inspect.unwrap(original.func), "__name__", "partial"))
    if _is_instance(original) and not hasattr(original, "__wrapped__"):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(original).__name__).lower()
    return target.__name__
