"""@tool: the public contract, every kind of callable, strict mode, invoke."""

from __future__ import annotations

import json
from typing import Annotated, Literal, Optional

import annotated_types as at
import pytest

from toolkit import ArgumentError, Injected, RunContext, SchemaError, Tool, tool

from .types_fixtures import Address


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
    """Get the current weather for a city.

    Args:
        city: City name, e.g. "Paris".
        unit: Temperature unit.
    """
    return {"city": city, "unit": unit, "temperature": 21}


WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": 'City name, e.g. "Paris".'},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit.",
                 "default": "celsius"},
    },
    "required": ["city"],
    "additionalProperties": False,
}


def test_contract():
    assert isinstance(get_weather, Tool)
    assert get_weather("Paris") == {"city": "Paris", "unit": "celsius", "temperature": 21}
    assert get_weather.name == "get_weather"
    assert get_weather.description == "Get the current weather for a city."
    assert get_weather.parameters == WEATHER_PARAMETERS
    assert get_weather.schema == {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a city.", "parameters": WEATHER_PARAMETERS}}
    assert get_weather.invoke('{"city": "Paris"}')["unit"] == "celsius"
    assert get_weather.invoke({"city": "Rome", "unit": "fahrenheit"})["unit"] == "fahrenheit"


def test_options_override_name_and_description():
    @tool(name="weather", description="Weather now.")
    def f(city: str) -> str:
        return city

    assert f.schema["function"]["name"] == "weather" and f.description == "Weather now."


def test_invoke_reports_every_problem_at_once():
    with pytest.raises(ArgumentError) as info:
        get_weather.invoke({"unit": "kelvin", "country": "FR"})
    assert info.value.problems == [
        ("city", "required property is missing"),
        ("unit", 'expected one of "celsius", "fahrenheit", got string "kelvin"'),
        ("country", "unknown property (known: city, unit)"),
    ]
    assert str(info.value) == (
        "Invalid arguments for tool 'get_weather':\n- city: required property is missing\n"
        "- unit: expected one of \"celsius\", \"fahrenheit\", got string \"kelvin\"\n"
        "- country: unknown property (known: city, unit)")


@pytest.mark.parametrize("raw, message", [
    ("{not json", "arguments are not valid JSON"),
    ("[1, 2]", "arguments must be a JSON object, got array"),
])
def test_invoke_rejects_bad_json(raw, message):
    with pytest.raises(ArgumentError, match=message):
        get_weather.invoke(raw)


def test_oversized_arguments_are_refused(monkeypatch):
    monkeypatch.setattr(Tool, "max_arguments_size", 100)
    with pytest.raises(ArgumentError, match="over the limit of 100;"):
        get_weather.invoke(json.dumps({"city": "x" * 200}))


class Calculator:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    @tool
    def scale(self, x: float) -> float:
        """Scale a number.

        Args:
            x: The number.
        """
        return x * self.factor

    @tool
    @staticmethod
    def negate(x: int) -> int:
        """Negate."""
        return -x

    @tool
    @classmethod
    def kind(cls, loud: bool = False) -> str:
        """The class name."""
        return cls.__name__.upper() if loud else cls.__name__


class Greeter:
    """Greet someone.

    Args:
        name: Who to greet.
    """

    def __call__(self, name: str) -> str:
        return f"Hello {name}"


def test_methods_static_class_and_callable_objects():
    calc = Calculator(3)
    assert calc.scale.parameters["properties"] == {"x": {"type": "number", "description": "The number."}}
    assert calc.scale.invoke({"x": "2"}) == 6.0 and calc.scale(2) == 6
    assert Calculator(5).scale.invoke({"x": 1}) == 5.0  # bound per instance
    assert Calculator.negate.invoke({"x": 4}) == -4 and calc.negate(1) == -1
    assert Calculator.kind.invoke({"loud": "true"}) == "CALCULATOR"
    assert "self" not in json.dumps(calc.scale.schema) and "cls" not in json.dumps(Calculator.kind.schema)
    greeter = tool(Greeter())
    assert greeter.name == "greeter" and greeter.description == "Greet someone."
    assert greeter.invoke({"name": "Ann"}) == "Hello Ann"


def test_var_args_and_kwargs():
    @tool
    def total(*values: int, **weights: float) -> float:
        return sum(values) + sum(weights.values())

    assert total.parameters == {"type": "object",
                                "properties": {"values": {"type": "array", "items": {"type": "integer"}}},
                                "additionalProperties": {"type": "number"}}
    assert total.invoke({"values": [1, 2], "a": "0.5"}) == 3.5


def test_none_default_makes_nullable_and_positional_only():
    @tool
    def f(a: int, /, b: Optional[str] = None, c: str = None) -> tuple:  # type: ignore[assignment]
        return a, b, c

    assert f.parameters["properties"]["c"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert f.invoke({"a": 1, "c": None}) == (1, None, None)


def test_async_is_refused():
    with pytest.raises(SchemaError, match="toolkit is synchronous"):
        @tool
        async def fetch(url: str) -> str:
            return url


def test_bad_hint_names_function_parameter_and_fix():
    with pytest.raises(SchemaError) as info:
        @tool
        def f(cb: type) -> None:
            pass
    text = str(info.value)
    assert "'f'" in text and "parameter 'cb'" in text and "take a name" in text


def test_bad_name_is_refused():
    with pytest.raises(SchemaError, match="not allowed"):
        tool(name="has space")(lambda: None)


def test_strict_mode():
    @tool(strict=True)
    def book(city: str, nights: int = 1, address: Optional[Address] = None) -> tuple:
        return city, nights, address

    params = book.parameters
    assert params["required"] == ["city", "nights", "address"]
    assert params["properties"]["nights"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert params["properties"]["address"]["anyOf"][0]["additionalProperties"] is False
    assert book.schema["function"]["strict"] is True
    # null means "use the Python default"
    assert book.invoke({"city": "Rome", "nights": None, "address": None}) == ("Rome", 1, None)
    with pytest.raises(SchemaError, match="strict mode cannot express \\*\\*kwargs"):
        tool(strict=True, name="kw")(lambda **kw: None)


def test_injected_parameters_are_hidden():
    @tool
    def whoami(ctx: RunContext, user: Annotated[str, Injected], greeting: str = "hi") -> str:
        return f"{greeting} {user} {ctx.context}"

    assert list(whoami.parameters["properties"]) == ["greeting"]
    assert whoami.invoke({}, context="bob") == "hi bob bob"


def test_constraints_are_enforced():
    @tool
    def pick(n: Annotated[int, at.Gt(0), at.Le(5)], tags: Annotated[list[str], at.MaxLen(2)] = ()) -> int:
        return n

    assert pick.parameters["properties"]["n"] == {"type": "integer", "exclusiveMinimum": 0, "maximum": 5}
    with pytest.raises(ArgumentError) as info:
        pick.invoke({"n": 0, "tags": ["a", "b", "c"]})
    assert [p for p, _ in info.value.problems] == ["n", "tags"]


def _shapes(a, b=1, /, c=2, *args, d, e=3, **kw):
    pass


def test_fast_signature_matches_inspect():
    from toolkit import _analysis as tool_module
    for func in (_shapes, get_weather._func, Calculator.scale._func, lambda: None, lambda *a: None, lambda **k: None):
        ours, theirs = tool_module._signature(func), __import__("inspect").signature(func)
        assert [(p.name, p.kind, p.default) for p in ours] == \
            [(p.name, p.kind, p.default) for p in theirs.parameters.values()]


def test_string_annotations_resolve_including_nested_forward_references():
    from .types_fixtures import TreeNode

    def grow(tree: TreeNode, extra: list[TreeNode] = (), label: Annotated[Literal["a", "b"], "A label"] = "a"):
        """Grow a tree."""

    grow.__globals__["TreeNode"] = TreeNode  # as if defined in this module
    built = tool(grow)
    props = built.parameters["properties"]
    assert props["tree"] == {"$ref": "#/$defs/TreeNode"} and props["extra"]["items"] == {"$ref": "#/$defs/TreeNode"}
    assert props["label"] == {"type": "string", "enum": ["a", "b"], "description": "A label", "default": "a"}
