"""``@tool``: analyse a function once, at decoration; validate and call it per use."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from ._exceptions import ArgumentError, SchemaError
from ._repair import RepairError, repair_arguments
from .schema import _nodes as n, node_for, parse_docstring

__all__ = ["Injected", "RunContext", "Tool", "tool"]

T = TypeVar("T")

_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")


class _InjectedMarker:
    def __repr__(self) -> str:
        return "toolkit.Injected"


#: ``Annotated[T, Injected]``: hidden from the schema, filled with ``run(..., context=...)``.
Injected = _InjectedMarker()


@dataclasses.dataclass
class RunContext(Generic[T]):
    """What a tool parameter annotated ``RunContext`` receives (hidden from the schema)."""

    #: The value given as ``run(..., context=...)``.
    context: T
    #: The transcript so far (OpenAI wire shape); read it, do not change it.
    messages: list[Any] = dataclasses.field(default_factory=list)
    #: The id of the tool call being served.
    tool_call_id: str | None = None
    #: The model step (1-based) the call came from.
    step: int = 0


def _lookup(module: str | None, qualname: str) -> Any:
    """The object ``module.qualname`` names (a tool pickled by reference)."""
    import importlib

    if not module or "<" in qualname:
        raise AttributeError(f"{qualname or 'it'} has no importable name")
    value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def _injection(hint: Any) -> str | None:
    """'run' for RunContext, 'value' for Annotated[T, Injected], else None."""
    if hint is RunContext or typing.get_origin(hint) is RunContext:
        return "run"
    if typing.get_origin(hint) is typing.Annotated:
        if any(item is Injected for item in hint.__metadata__):
            return "value"
        return _injection(typing.get_args(hint)[0])
    return None


class _Param(typing.NamedTuple):
    name: str
    kind: inspect._ParameterKind
    injected: str | None
    #: What to pass when the model leaves the parameter out and it cannot simply be omitted
    #: (a pydantic ``Field(...)`` default, or a parameter before ``*args``); NO_DEFAULT otherwise.
    default: Any = None


class Tool:
    """A function the model may call: its JSON Schema, and a validating ``invoke``.

    Build one with ``@tool``. Calling the tool calls the function unchanged.
    """

    #: Largest argument JSON accepted (characters): a model could send more. Set it on the
    #: class for every tool, or on one tool.
    max_arguments_size: int = 1_000_000
    #: Where the tool comes from when not from your code (e.g. "MCP server weather"), for messages.
    origin: str | None = None

    def __init__(self, func: Callable[..., Any], *, name: str | None = None, description: str | None = None,
                 strict: bool = False, parallel: bool = True, timeout: float | None = None,
                 max_calls: int | None = None, max_retries: int = 2) -> None:
        target, self._binding = _unwrap(func)
        if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
            raise SchemaError(f"{_qualname(target)} is a coroutine function; toolkit is synchronous, "
                              f"so decorate a plain `def` function (wrap async code with your own event loop)")
        self._func = target
        self._bound: Any = None
        self.strict = strict
        self.parallel = parallel
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or timeout <= 0):
            raise SchemaError(f"@tool(timeout=...) must be a positive number of seconds, got {timeout!r}")
        if max_calls is not None and (isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 1):
            raise SchemaError(f"@tool(max_calls=...) must be a positive integer, got {max_calls!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise SchemaError(f"@tool(max_retries=...) must be an integer >= 0, got {max_retries!r}")
        #: Seconds a call may run in run() before it is answered with a timeout error.
        self.timeout = timeout
        #: Most calls of this tool in one run.
        self.max_calls = max_calls
        #: Most ``ToolRetry`` requests of this tool in one run.
        self.max_retries = max_retries
        self.name = name or _default_name(func, target)
        if not _NAME_RE.match(self.name):
            raise SchemaError(f"tool name {self.name!r} is not allowed: use 1-64 letters, digits, "
                              f"'_', '.' or '-' (pass @tool(name=...))")
        doc = _docs(func, target)
        if description is None:
            description = doc.description
            if doc.returns:
                description = f"{description}\n\nReturns: {doc.returns}" if description else f"Returns: {doc.returns}"
        self.description = description
        self._record, self._params = self._analyse(doc.params)
        defs = n.Defs()
        self.parameters: dict[str, Any] = defs.attach(self._record.schema(defs))
        if not self.parameters.get("required"):
            self.parameters.pop("required", None)
        functools.update_wrapper(self, target, updated=())

    # -- analysis --------------------------------------------------------------------------

    def _analyse(self, docs: dict[str, str]) -> tuple[n.RecordNode, list[_Param]]:
        func = self._func
        where = f"tool {self.name!r} ({_qualname(func)})"
        try:
            signature = _signature(func)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"{where}: cannot read the signature: {exc}") from exc
        hints = _resolved_hints(func, where)
        target = inspect.unwrap(func.func if isinstance(func, functools.partial) else func)
        self._namespace: dict[str, Any] = getattr(target, "__globals__", None) or {}
        record = n.RecordNode(self.name, None, strict=self.strict)
        params: list[_Param] = []
        items = signature
        if self._binding is not None and items:
            items = items[1:]  # the instance / class never appears in the schema
        has_var_args = any(p.kind is _KINDS.VAR_POSITIONAL for p in items)
        for param in items:
            hint = hints.get(param.name, Any)
            injected = _injection(hint)
            default, field_info = _field_default(param.default)
            fill = n.NO_DEFAULT
            if field_info is not None or (has_var_args and param.kind is _KINDS.POSITIONAL_OR_KEYWORD):
                fill = default  # passed explicitly when the model leaves it out
            params.append(_Param(param.name, param.kind, injected, fill))
            if injected:
                continue
            if field_info is not None:
                hint = typing.Annotated[hint, field_info]
            self._add_field(record, param, hint, default, field_info, docs, f"{where}, parameter {param.name!r}")
        return record, params

    def _add_field(self, record: n.RecordNode, param: _Sig, hint: Any, default: Any, field_info: Any,
                   docs: Mapping[str, str], where: str) -> None:
        if param.kind is _KINDS.VAR_KEYWORD:
            if self.strict:
                raise SchemaError(f"{where}: strict mode cannot express **kwargs (every object must be closed); "
                                  f"name the parameters or use strict=False")
            record.extra = _node(hint, False, where, self._namespace)
            return
        if param.kind is _KINDS.VAR_POSITIONAL:
            node: n.Node = n.ArrayNode(_node(hint, self.strict, where, self._namespace), tuple)
            field = n.Field(param.name, node, required=False, default=n.NO_DEFAULT, description=docs.get(param.name))
            field.strict_null_default = self.strict
            record.fields[param.name] = field
            return
        node = _node(hint, self.strict, where, self._namespace)
        has_default = default is not _KINDS.empty
        if has_default and default is None and not node.nullable:
            node = n.UnionNode([node, n.NoneNode()])  # `= None` makes it nullable
        description = getattr(field_info, "description", None) or docs.get(param.name)
        field = n.Field(param.name, node, required=not has_default,
                        default=default if has_default else n.NO_DEFAULT, description=description)
        field.strict_null_default = self.strict and has_default
        record.fields[param.name] = field

    # -- public surface ----------------------------------------------------------------------

    @property
    def schema(self) -> dict[str, Any]:
        """The OpenAI tool definition: ``{"type": "function", "function": {...}}``."""
        function: dict[str, Any] = {"name": self.name}
        if self.description:
            function["description"] = self.description
        function["parameters"] = self.parameters
        if self.strict:
            function["strict"] = True
        return {"type": "function", "function": function}

    @property
    def injects(self) -> bool:
        """Whether the function takes an injected context parameter."""
        return any(p.injected for p in self._params)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._bound is not None:
            return self._func(self._bound, *args, **kwargs)
        return self._func(*args, **kwargs)

    def __get__(self, instance: Any, owner: type | None = None) -> Tool:
        if self._binding == "instance" and instance is not None:
            return self._bind(instance)
        if self._binding == "class":
            return self._bind(owner if owner is not None else type(instance))
        return self

    def _bind(self, target: Any) -> Tool:
        bound = copy.copy(self)
        bound._bound = target
        return bound

    def __repr__(self) -> str:
        return f"<Tool {self.name}>"

    def __copy__(self) -> Tool:
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        return copied

    def __reduce__(self) -> Any:
        """Pickled by reference (its module and qualified name), as functions are: a worker imports
        the same tool. A method tool of an instance pickles with its instance.

        Raises:
            pickle.PicklingError: the tool cannot be found again by name (a lambda, a tool made in a
                function or in ``__main__`` of another process).
        """
        import pickle

        if self._bound is not None:
            return (getattr, (self._bound, self._func.__name__))
        module, qualname = getattr(self._func, "__module__", None), getattr(self._func, "__qualname__", "")
        try:
            found = _lookup(module, qualname)
        except (ImportError, AttributeError) as exc:
            raise pickle.PicklingError(f"tool {self.name!r} cannot be found again as {module}.{qualname}: "
                                       f"{exc}") from None
        if not (found is self or (isinstance(found, Tool) and found._func is self._func)):
            raise pickle.PicklingError(f"tool {self.name!r} is not what {module}.{qualname} names; define it "
                                       f"at module level")
        return (_lookup, (module, qualname))

    def replace(self, **changes: Any) -> Tool:
        """A copy with other ``name``, ``description``, ``timeout``, ``max_calls``, ``max_retries``
        or ``parallel`` (e.g. for ``run(..., prepare_tools=...)``); the function is the same.

        Raises:
            TypeError: an attribute that cannot be replaced.
        """
        allowed = {"name", "description", "timeout", "max_calls", "max_retries", "parallel"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"Tool.replace() cannot change {', '.join(sorted(unknown))}; it changes "
                            f"{', '.join(sorted(allowed))}")
        copied = copy.copy(self)
        for key, value in changes.items():
            setattr(copied, key, value)
        if "name" in changes and not _NAME_RE.match(copied.name):
            raise SchemaError(f"tool name {copied.name!r} is not allowed: use 1-64 letters, digits, '_', '.' or '-'")
        return copied

    def check_callable(self) -> None:
        """Refuse a method taken from its class (``Store.stock``): it has no instance to run on.

        Raises:
            SchemaError: says to pass the method of an instance (``Store().stock``).
        """
        if self._binding == "instance" and self._bound is None:
            owner = _qualname(self._func).rsplit(".", 1)[0]
            raise SchemaError(f"tool {self.name!r} is the method {_qualname(self._func)} taken from its class, so "
                              f"it has no instance to run on; pass it from an instance, e.g. "
                              f"{owner}().{self._func.__name__}")

    def read_arguments(self, raw: str | bytes | Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
        """The arguments as a dict, and whether their text needed repair (see ``_repair``).

        Raises:
            ArgumentError: too large, or not a JSON object even after a safe repair.
        """
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if isinstance(raw, str) and len(raw) > self.max_arguments_size:
            raise ArgumentError([("", f"the arguments are {len(raw)} characters, over the limit of "
                                      f"{self.max_arguments_size}; send shorter arguments")], tool=self.name)
        if isinstance(raw, Mapping):
            try:  # the same cap as for text: the size the arguments have as JSON
                size = len(json.dumps(raw, ensure_ascii=False, default=str))
            except (ValueError, TypeError, RecursionError):
                raise ArgumentError([("", "the arguments cannot be written as JSON (nested too deeply, or a "
                                          "value too large); send one flatter JSON object")], tool=self.name) from None
            if size > self.max_arguments_size:
                raise ArgumentError([("", f"the arguments are {size} characters as JSON, over the limit of "
                                          f"{self.max_arguments_size}; send shorter arguments")], tool=self.name)
            return dict(raw), False
        try:
            return repair_arguments(raw)
        except RepairError as exc:
            raise ArgumentError([("", str(exc))], tool=self.name) from None

    def parse_arguments(self, arguments: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
        """Read (a JSON string, repaired where safe) and validate the arguments; return the coerced values.

        Raises:
            ArgumentError: every problem at once, as (path, message) pairs.
        """
        arguments, _ = self.read_arguments(arguments)
        errors: list[Any] = []
        values = self._record.coerce_fields(arguments, (), errors)
        if errors:
            raise ArgumentError(errors, tool=self.name)
        return dict(values)

    def call_with(self, values: Mapping[str, Any], *, context: Any = None,
                  run_context: RunContext[Any] | None = None) -> Any:
        """Call the function with already-coerced values (from ``parse_arguments``)."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for param in self._params:
            if param.injected:
                value = (run_context if run_context is not None else RunContext(context)) \
                    if param.injected == "run" else context
            elif param.name in values:
                value = values[param.name]
            elif param.default is not n.NO_DEFAULT:
                value = param.default  # a Field(...) default, or a parameter before *args
            else:
                continue  # the function's own default applies
            if param.kind is _KINDS.VAR_POSITIONAL:
                args.extend(value)  # type: ignore[arg-type]
            elif param.kind is _KINDS.POSITIONAL_ONLY or (
                    param.kind is _KINDS.POSITIONAL_OR_KEYWORD and param.default is not n.NO_DEFAULT
                    and self._has_var_args):
                args.append(value)  # before *args, positional-or-keyword parameters go by position
            elif param.kind is not _KINDS.VAR_KEYWORD:
                kwargs[param.name] = value
        known = {p.name for p in self._params}
        kwargs.update({k: v for k, v in values.items() if k not in known})  # **kwargs extras
        return self(*args, **kwargs)

    @functools.cached_property
    def _has_var_args(self) -> bool:
        return any(p.kind is _KINDS.VAR_POSITIONAL for p in self._params)

    def invoke(self, arguments: str | Mapping[str, Any] | None = None, *, context: Any = None) -> Any:
        """Validate, coerce and call: ``tool.invoke('{"city": "Paris"}')``.

        Raises:
            ArgumentError: the arguments do not fit the schema (nothing was called).
        """
        return self.call_with(self.parse_arguments(arguments), context=context)


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


def _unwrap(func: Any) -> tuple[Callable[..., Any], str | None]:
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


def _docs(original: Any, target: Any) -> Any:
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


def _default_name(original: Any, target: Callable[..., Any]) -> str:
    if isinstance(original, functools.partial):
        return str(getattr(inspect.unwrap(original.func), "__name__", "partial"))
    if _is_instance(original) and not hasattr(original, "__wrapped__"):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(original).__name__).lower()
    return target.__name__


def _qualname(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", repr(func))


@typing.overload
def tool(func: Callable[..., Any], /) -> Tool: ...
@typing.overload
def tool(*, name: str | None = None, description: str | None = None, strict: bool = False,
         parallel: bool = True, timeout: float | None = None, max_calls: int | None = None,
         max_retries: int = 2) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(func: Callable[..., Any] | None = None, /, *, name: str | None = None, description: str | None = None,
         strict: bool = False, parallel: bool = True, timeout: float | None = None, max_calls: int | None = None,
         max_retries: int = 2) -> Any:
    """Make a function a tool: ``@tool`` or ``@tool(name=..., description=..., strict=...)``.

    Args:
        func: The function, method, staticmethod/classmethod or callable object.
        name: The name the model sees (default: the function's name).
        description: Replaces the docstring's description.
        strict: Close every object, require every property, make optional ones nullable
            (null then means "use the Python default").
        parallel: False keeps this tool out of concurrent execution in ``run()``.
        timeout: Seconds a call may run in ``run()`` (wins over ``run(tool_timeout=...)``).
        max_calls: Most calls of this tool in one run; later calls are refused.
        max_retries: Most ``ToolRetry`` requests in one run before the model is told to stop.

    Raises:
        SchemaError: the function cannot be described (named parameter, type, and what to use).
    """
    def decorate(f: Callable[..., Any]) -> Tool:
        return Tool(f, name=name, description=description, strict=strict, parallel=parallel, timeout=timeout,
                    max_calls=max_calls, max_retries=max_retries)

    return decorate(func) if func is not None else decorate
