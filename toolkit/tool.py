"""``@tool``: analyse a function once, at decoration; validate and call it per use."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import re
import typing
from typing import Any, Callable, Generic, Mapping, TypeVar

from ._exceptions import ArgumentError, SchemaError
from ._repair import RepairError, repair_arguments
from .schema import _nodes as n
from .schema import node_for, parse_docstring

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
    messages: list = dataclasses.field(default_factory=list)
    #: The id of the tool call being served.
    tool_call_id: str | None = None
    #: The model step (1-based) the call came from.
    step: int = 0


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


class Tool:
    """A function the model may call: its JSON Schema, and a validating ``invoke``.

    Build one with ``@tool``. Calling the tool calls the function unchanged.
    """

    #: Largest argument JSON accepted (characters): a model could send more. Set it on the
    #: class for every tool, or on one tool.
    max_arguments_size: int = 1_000_000

    def __init__(self, func: Callable, *, name: str | None = None, description: str | None = None,
                 strict: bool = False, parallel: bool = True) -> None:
        target, self._binding = _unwrap(func)
        if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
            raise SchemaError(f"{_qualname(target)} is a coroutine function; toolkit is synchronous, "
                              f"so decorate a plain `def` function (wrap async code with your own event loop)")
        self._func = target
        self._bound: Any = None
        self.strict = strict
        self.parallel = parallel
        self.name = name or _default_name(func, target)
        if not _NAME_RE.match(self.name):
            raise SchemaError(f"tool name {self.name!r} is not allowed: use 1-64 letters, digits, "
                              f"'_', '.' or '-' (pass @tool(name=...))")
        doc = parse_docstring(type(func).__doc__ or target.__doc__ if _is_instance(func) else target.__doc__)
        if description is None:
            description = doc.description
            if doc.returns:
                description = f"{description}\n\nReturns: {doc.returns}" if description else f"Returns: {doc.returns}"
        self.description = description
        self._record, self._params = self._analyse(doc.params)
        defs = n.Defs()
        self.parameters: dict = defs.attach(self._record.schema(defs))
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
        try:
            hints = _hints(func)
        except Exception as exc:  # NameError for an unresolved forward reference, and friends
            raise SchemaError(f"{where}: cannot resolve the type hints: {exc}; import or define the "
                              f"referenced types at module level") from exc

        record = n.RecordNode(self.name, None, strict=self.strict)
        params: list[_Param] = []
        items = signature
        if self._binding is not None and items:
            items = items[1:]  # self / cls never appear in the schema
        for param in items:
            hint = hints.get(param.name, Any)
            injected = _injection(hint)
            params.append(_Param(param.name, param.kind, injected))
            if injected:
                continue
            param_where = f"{where}, parameter {param.name!r}"
            if param.kind is _KINDS.VAR_KEYWORD:
                if self.strict:
                    raise SchemaError(f"{param_where}: strict mode cannot express **kwargs (every object "
                                      f"must be closed); name the parameters or use strict=False")
                record.extra = _node(hint, False, param_where)
                continue
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                node = n.ArrayNode(_node(hint, self.strict, param_where), tuple)
                field = n.Field(param.name, node, required=False, default=n.NO_DEFAULT,
                                description=docs.get(param.name))
                field.strict_null_default = self.strict
                record.fields[param.name] = field
                continue
            node = _node(hint, self.strict, param_where)
            has_default = param.default is not _KINDS.empty
            if has_default and param.default is None and not node.nullable:
                node = n.UnionNode([node, n.NoneNode()])  # `= None` makes it nullable
            field = n.Field(param.name, node, required=not has_default,
                            default=param.default if has_default else n.NO_DEFAULT,
                            description=docs.get(param.name))
            field.strict_null_default = self.strict and has_default
            record.fields[param.name] = field
        return record, params

    # -- public surface ----------------------------------------------------------------------

    @property
    def schema(self) -> dict:
        """The OpenAI tool definition: ``{"type": "function", "function": {...}}``."""
        function: dict = {"name": self.name}
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

    def __get__(self, instance: Any, owner: type | None = None) -> "Tool":
        if self._binding == "instance" and instance is not None:
            return self._bind(instance)
        if self._binding == "class":
            return self._bind(owner if owner is not None else type(instance))
        return self

    def _bind(self, target: Any) -> "Tool":
        bound = copy.copy(self)
        bound._bound = target
        return bound

    def __repr__(self) -> str:
        return f"<Tool {self.name}>"

    def read_arguments(self, raw: str | bytes | Mapping[str, Any] | None) -> tuple[dict, bool]:
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
            return dict(raw), False
        try:
            return repair_arguments(raw)
        except RepairError as exc:
            raise ArgumentError([("", str(exc))], tool=self.name) from None

    def parse_arguments(self, arguments: str | bytes | Mapping[str, Any] | None) -> dict:
        """Read (a JSON string, repaired where safe) and validate the arguments; return the coerced values.

        Raises:
            ArgumentError: every problem at once, as (path, message) pairs.
        """
        arguments, _ = self.read_arguments(arguments)
        errors: list = []
        values = self._record.coerce_fields(arguments, (), errors)
        if errors:
            raise ArgumentError(errors, tool=self.name)
        return values

    def call_with(self, values: Mapping[str, Any], *, context: Any = None,
                  run_context: RunContext | None = None) -> Any:
        """Call the function with already-coerced values (from ``parse_arguments``)."""
        args: list = []
        kwargs: dict = {}
        for param in self._params:
            if param.injected:
                if param.injected == "run":
                    value = run_context if run_context is not None else RunContext(context)
                else:
                    value = context
            elif param.name in values:
                value = values[param.name]
            else:
                continue  # the function's own default applies
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                args.extend(value)
            elif param.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(value)
            elif param.kind is not inspect.Parameter.VAR_KEYWORD:
                kwargs[param.name] = value
        known = {p.name for p in self._params}
        kwargs.update({k: v for k, v in values.items() if k not in known})  # **kwargs extras
        return self(*args, **kwargs)

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


def _signature(func: Callable) -> list[_Sig]:
    """(name, kind, default) of each parameter; read straight off the code object for plain
    functions, which is several times faster than inspect.signature."""
    code = getattr(func, "__code__", None)
    if not inspect.isfunction(func) or hasattr(func, "__wrapped__") or hasattr(func, "__signature__"):
        return [_Sig(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]
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


def _hints(func: Callable) -> dict[str, Any]:
    """The resolved type hints; plain (non-string) annotations skip get_type_hints' evaluation."""
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


def _node(hint: Any, strict: bool, where: str) -> n.Node:
    try:
        return node_for(hint, strict, where)
    except SchemaError as exc:
        if str(exc).startswith(where):
            raise
        raise SchemaError(f"{where}: {exc}") from None


def _unwrap(func: Any) -> tuple[Callable, str | None]:
    """The function to analyse, and how it binds: None, 'instance' or 'class'."""
    if isinstance(func, Tool):
        return func._func, func._binding
    if isinstance(func, staticmethod):
        return func.__func__, None
    if isinstance(func, classmethod):
        return func.__func__, "class"
    if inspect.ismethod(func):
        return func, None  # already bound: the signature has no self
    if inspect.isfunction(func):
        code = func.__code__
        params = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        qualname = func.__qualname__.split(".")
        in_class = len(qualname) > 1 and qualname[-2] != "<locals>"
        if in_class and params and params[0] in ("self", "cls"):
            return func, "instance" if params[0] == "self" else "class"
        return func, None
    if callable(func):
        return func.__call__, None  # a callable object: its bound __call__
    raise SchemaError(f"@tool needs a function or callable object, got {type(func).__name__}")


def _is_instance(func: Any) -> bool:
    return callable(func) and not isinstance(func, (staticmethod, classmethod, Tool)) and \
        not inspect.isfunction(func) and not inspect.ismethod(func)


def _default_name(original: Any, target: Callable) -> str:
    if _is_instance(original):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(original).__name__).lower()
    return target.__name__


def _qualname(func: Callable) -> str:
    return getattr(func, "__qualname__", repr(func))


@typing.overload
def tool(func: Callable, /) -> Tool: ...
@typing.overload
def tool(*, name: str | None = None, description: str | None = None, strict: bool = False,
         parallel: bool = True) -> Callable[[Callable], Tool]: ...


def tool(func: Callable | None = None, /, *, name: str | None = None, description: str | None = None,
         strict: bool = False, parallel: bool = True) -> Any:
    """Make a function a tool: ``@tool`` or ``@tool(name=..., description=..., strict=...)``.

    Args:
        func: The function, method, staticmethod/classmethod or callable object.
        name: The name the model sees (default: the function's name).
        description: Replaces the docstring's description.
        strict: Close every object, require every property, make optional ones nullable
            (null then means "use the Python default").
        parallel: False keeps this tool out of concurrent execution in ``run()``.

    Raises:
        SchemaError: the function cannot be described (named parameter, type, and what to use).
    """
    def decorate(f: Callable) -> Tool:
        return Tool(f, name=name, description=description, strict=strict, parallel=parallel)

    return decorate(func) if func is not None else decorate
