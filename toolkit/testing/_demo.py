"""``toolkit demo``: the whole loop offline, against a scripted model on the shipped test server.

The scripted model calls every tool once with example arguments derived from its schema (a
value the parameter's description gives, such as ``e.g. "Paris"``, else one that fits the type),
then answers with what the tools returned. It is plainly a script, not a model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..tool import Tool, tool

__all__ = ["DEMO_TOOLS", "example_arguments", "scripted_model"]

_SUGGESTED = re.compile(r"""(?:e\.g\.,?|such as|for example|like)\s*[`"']([^`"']{1,60})[`"']""", re.I)
_RESPONSE = re.compile(r"<tool_response>\n(.*?)\n</tool_response>", re.S)
_FORMATS = {"date-time": "2026-01-01T12:00:00Z", "date": "2026-01-01", "time": "12:00:00",
            "uuid": "123e4567-e89b-12d3-a456-426614174000"}


def example_arguments(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments that fit a tool's ``parameters`` schema: every required property (and those
    with a suggested value in their description)."""
    value = _example(parameters, parameters.get("$defs") or {}, 0)
    return value if isinstance(value, dict) else {}


def _example(schema: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> Any:
    if depth > 6:
        return None
    if "$ref" in schema:
        return _example(defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {}), defs, depth + 1)
    suggested = _SUGGESTED.search(str(schema.get("description") or ""))
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"] or schema["anyOf"]
        return _example(options[0], defs, depth + 1)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        return {name: _example(sub, defs, depth + 1) for name, sub in properties.items()
                if name in required or _SUGGESTED.search(str(sub.get("description") or ""))}
    if kind == "array":
        if "prefixItems" in schema:
            return [_example(item, defs, depth + 1) for item in schema["prefixItems"]]
        return [_example(schema.get("items") or {}, defs, depth + 1)]
    if kind == "string":
        if suggested:
            return suggested.group(1)
        return _FORMATS.get(str(schema.get("format")), "example")
    if kind == "integer":
        return int(suggested.group(1)) if suggested and suggested.group(1).lstrip("-").isdigit() else \
            max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(schema.get("minimum", 1.0)) if "minimum" in schema else 1.5
    if kind == "boolean":
        return True
    return suggested.group(1) if suggested else "example"


def scripted_model(tools: Iterable[Tool]) -> Any:
    """A callable for ``LightLLMTestServer.script``: one answer per request, as a model's text."""
    tools = list(tools)

    def answer(body: Any) -> str:
        prompt = body.get("inputs", "") if isinstance(body, dict) else ""
        results = _RESPONSE.findall(prompt)
        if isinstance(body, dict) and "messages" in body:  # the /v1 route
            results = [str(m.get("content")) for m in body["messages"] if m.get("role") == "tool"]
        if not results:
            return "I will call each tool once.\n" + "\n".join(
                "<tool_call>\n" + json.dumps({"name": t.name, "arguments": example_arguments(t.parameters)},
                                             ensure_ascii=False) + "\n</tool_call>" for t in tools)
        shown = "; ".join(f"{t.name} gave {r[:120]}" for t, r in zip(tools, results))
        return f"(scripted answer) The tools answered: {shown}."

    return answer


@tool
def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """Get the current weather for a city.

    Args:
        city: City name, e.g. "Paris".
        unit: "celsius" or "fahrenheit".
    """
    return {"city": city, "temperature": 21 if unit == "celsius" else 70, "unit": unit, "conditions": "sunny"}


#: The tools ``toolkit demo`` uses when no file is given.
DEMO_TOOLS = [get_weather]
