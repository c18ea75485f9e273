"""``@tool``: analyse a function once, at decoration; validate and call it per use."""

from __future__ import annotations

import copy
import functools
import json
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from ._exceptions import ArgumentError, SchemaError

if typing.TYPE_CHECKING:
    import inspect

__all__ = ["Injected", "RunContext", "Tool", "tool"]

T = TypeVar("T")

#: A name a model can call: what OpenAI-style servers accept for a function name.
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")

# inspect.Parameter's kinds (an IntEnum), compared by value so that calling a tool needs no inspect
_POSITIONAL_ONLY, _POSITIONAL_OR_KEYWORD, _VAR_POSITIONAL, _KEYWORD_ONLY, _VAR_KEYWORD = range(5)


class _NoFill:
    def __repr__(self) -> str:
        return "NO_FILL"


#: A parameter the model may leave out: the function's own default applies.
NO_FILL: Any = _NoFill()


class _InjectedMarker:
    def __repr__(self) -> str:
        return "toolkit.Injected"


#: ``Annotated[T, Injected]``: hidden from the schema, filled with ``run(..., context=...)``.
Injected = _InjectedMarker()


class RunContext(Generic[T]):
    """What a tool parameter annotated ``RunContext`` receives (hidden from the schema).

    Attributes:
        context: The value given as ``run(..., context=...)``.
        messages: The transcript so far (OpenAI wire shape); read it, do not change it.
        tool_call_id: The id of the tool call being served.
        step: The model step (1-based) the call came from.
    """

    __slots__ = ("context", "messages", "step", "tool_call_id")

    def __init__(self, context: T, messages: list[Any] | None = None, tool_call_id: str | None = None,
                 step: int = 0) -> None:
        self.context = context
        self.messages: list[Any] = [] if messages is None else messages
        self.tool_call_id = tool_call_id
        self.step = step

    def __repr__(self) -> str:
        return (f"RunContext(context={self.context!r}, messages={self.messages!r}, "
                f"tool_call_id={self.tool_call_id!r}, step={self.step!r})")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq is


def _lookup(module: str | None, qualname: str) -> Any:
    """The object ``module.qualname`` names (a tool pickled by reference)."""
    import importlib

    if not module or "<" in qualname:
        raise AttributeError(f"{qualname or 'it'} has no importable name")
    value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


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
        from . import _analysis  # the schema engine loads with the first tool, not with `import toolkit`

        target, self._binding = _analysis.unwrap(func)
        if _analysis.is_coroutine(target):
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
        self.name = name or _analysis.default_name(func, target)
        if not TOOL_NAME.match(self.name):
            raise SchemaError(f"tool name {self.name!r} is not allowed: use 1-64 letters, digits, "
                              f"'_', '.' or '-' (pass @tool(name=...))")
        doc = _analysis.docs(func, target)
        if description is None:
            description = doc.description
            if doc.returns:
                description = f"{description}\n\nReturns: {doc.returns}" if description else f"Returns: {doc.returns}"
        self.description = description
        self._namespace: dict[str, Any] = {}
        self._record, self._params = _analysis.analyse(self, doc.params)
        self.parameters: dict[str, Any] = _analysis.parameters_schema(self._record)
        if not self.parameters.get("required"):
            self.parameters.pop("required", None)
        functools.update_wrapper(self, target, updated=())

    # -- analysis --------------------------------------------------------------------------

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
        if "name" in changes and not TOOL_NAME.match(copied.name):
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
        from ._repair import RepairError, repair_arguments

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
            elif param.default is not NO_FILL:
                value = param.default  # a Field(...) default, or a parameter before *args
            else:
                continue  # the function's own default applies
            if param.kind == _VAR_POSITIONAL:
                args.extend(value)  # type: ignore[arg-type]
            elif param.kind == _POSITIONAL_ONLY or (
                    param.kind == _POSITIONAL_OR_KEYWORD and param.default is not NO_FILL
                    and self._has_var_args):
                args.append(value)  # before *args, positional-or-keyword parameters go by position
            elif param.kind != _VAR_KEYWORD:
                kwargs[param.name] = value
        known = {p.name for p in self._params}
        kwargs.update({k: v for k, v in values.items() if k not in known})  # **kwargs extras
        return self(*args, **kwargs)

    @functools.cached_property
    def _has_var_args(self) -> bool:
        return any(p.kind == _VAR_POSITIONAL for p in self._params)

    def invoke(self, arguments: str | Mapping[str, Any] | None = None, *, context: Any = None) -> Any:
        """Validate, coerce and call: ``tool.invoke('{"city": "Paris"}')``.

        Raises:
            ArgumentError: the arguments do not fit the schema (nothing was called).
        """
        return self.call_with(self.parse_arguments(arguments), context=context)


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
