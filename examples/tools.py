"""Example tools used by the README quickstart: weather, unit conversion, a small calculator."""

from __future__ import annotations

import ast
import operator
from typing import Annotated, Literal

from toolkit import tool

_WEATHER = {"paris": 21, "rome": 25, "oslo": -3, "tokyo": 18}


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
    """Get the current weather for a city.

    Args:
        city: City name, e.g. "Paris".
        unit: Temperature unit.
    """
    celsius = _WEATHER.get(city.strip().lower(), 15)
    value = celsius if unit == "celsius" else celsius * 9 / 5 + 32
    return {"city": city, "temperature": value, "unit": unit, "conditions": "sunny"}


@tool
def convert_units(value: float, from_unit: Literal["km", "mi", "kg", "lb", "c", "f"],
                  to_unit: Literal["km", "mi", "kg", "lb", "c", "f"]) -> float:
    """Convert a value between units of length, weight or temperature.

    Args:
        value: The number to convert.
        from_unit: The unit of value.
        to_unit: The unit wanted.
    """
    factors = {("km", "mi"): 0.621371, ("mi", "km"): 1.609344, ("kg", "lb"): 2.204623, ("lb", "kg"): 0.453592}
    if from_unit == to_unit:
        return value
    if (from_unit, to_unit) == ("c", "f"):
        return value * 9 / 5 + 32
    if (from_unit, to_unit) == ("f", "c"):
        return (value - 32) * 5 / 9
    if (from_unit, to_unit) not in factors:
        raise ValueError(f"cannot convert {from_unit} to {to_unit}")
    return round(value * factors[(from_unit, to_unit)], 6)


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.Mod: operator.mod, ast.USub: operator.neg, ast.UAdd: operator.pos}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        if isinstance(node.op, ast.Pow) and abs(_evaluate(node.right)) > 100:
            raise ValueError("exponent too large")
        return _OPS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.operand))
    raise ValueError("only numbers and + - * / % ** are allowed")


@tool
def calculate(expression: Annotated[str, "An arithmetic expression such as '2 * (3 + 4)'"]) -> float:
    """Evaluate an arithmetic expression (numbers and + - * / % ** only)."""
    return _evaluate(ast.parse(expression, mode="eval").body)
