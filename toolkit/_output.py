"""Typed output: ``run(..., output_type=T)`` ends with a value of type ``T``.

Three strategies. ``tool`` (default): an extra tool whose parameters are ``T``'s schema (a
non-object type wrapped as ``{"result": T}``). ``native``: once the model answers without tool
calls, one more call with constrained decoding (``guided_json`` on ``/generate``,
``response_format`` on ``/v1``). ``prompted``: the schema in a system instruction, the text reply
parsed. Every value is repaired and coerced by the schema engine like tool arguments.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ._exceptions import ArgumentError
from ._repair import RepairError, repair_arguments
from .schema import coerce, type_schema
from .tool import TOOL_NAME

__all__ = ["STRATEGIES", "OutputSpec"]

STRATEGIES = ("tool", "native", "prompted")
#: LightLLM refuses guided_json schemas of this many bytes or more (env LIGHTLLM_JSON_SCHEMA_MAX_LENGTH).
DEFAULT_JSON_SCHEMA_MAX_LENGTH = 2048
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)\n?```", re.S)
#: Keywords that constrain the whole reply: sent on every step they would block tool calls.
CONSTRAINT_KEYWORDS = ("guided_json", "guided_grammar", "guided_regex", "regular_constraint", "response_format")


class OutputSpec:
    """What ``output_type`` asks for: its schema, and how to read a value of it."""

    def __init__(self, output_type: Any, strategy: str, tool_name: str, retries: int) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"output_strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"output_retries must be an integer >= 0, got {retries!r}")
        if not isinstance(tool_name, str) or not TOOL_NAME.match(tool_name):
            raise ValueError(f"output_tool_name must be 1-64 letters, digits, '_', '.' or '-', got {tool_name!r}")
        self.type = output_type
        self.strategy = strategy
        self.tool_name = tool_name
        self.retries = retries
        self.schema = type_schema(output_type)  # SchemaError for a type with no JSON form
        self.wrapped = not (self.schema.get("type") == "object" and "properties" in self.schema)
        self.name = getattr(output_type, "__name__", None) or "output"

    # -- the tool strategy -----------------------------------------------------------------------

    def tool_schema(self) -> dict[str, Any]:
        parameters = self.schema
        if self.wrapped:
            defs = parameters.get("$defs")
            inner = {k: v for k, v in parameters.items() if k != "$defs"}
            parameters = {"type": "object", "properties": {"result": inner}, "required": ["result"],
                          "additionalProperties": False}
            if defs:
                parameters["$defs"] = defs
        return {"type": "function", "function": {
            "name": self.tool_name,
            "description": "Give the final answer with this tool once you have everything you need.",
            "parameters": parameters}}

    def from_arguments(self, raw: Any) -> Any:
        """The value from the output tool's arguments (repaired, coerced).

        Raises:
            ArgumentError: every problem, with paths.
        """
        try:
            arguments, _ = repair_arguments(raw)
        except RepairError as exc:
            raise ArgumentError([("", str(exc))], tool=self.tool_name) from None
        if self.wrapped:
            extra = sorted(set(arguments) - {"result"})
            if "result" not in arguments:
                raise ArgumentError([("result", "required property is missing")], tool=self.tool_name)
            if extra:
                raise ArgumentError([(key, "unknown property (known: result)") for key in extra], tool=self.tool_name)
            return self._coerce(arguments["result"], "result")
        return self._coerce(arguments, "")

    def _coerce(self, value: Any, prefix: str) -> Any:
        try:
            return coerce(self.type, value)
        except ArgumentError as exc:
            problems = [(f"{prefix}.{path}" if prefix and path else prefix or path, message)
                        for path, message in exc.problems]
            raise ArgumentError(problems, tool=self.tool_name) from None

    # -- text replies -----------------------------------------------------------------------------

    def from_text(self, text: str | None) -> Any:
        """A value read from a text reply: the whole text as JSON, or a fenced block.

        Raises:
            ArgumentError: no JSON value in the text, or it does not fit the type.
        """
        candidates = [(text or "").strip()]
        candidates += [m.group(1).strip() for m in _FENCE.finditer(text or "")]
        problems: list[tuple[str, str]] = [("", "the reply holds no JSON value")]
        for candidate in candidates:
            if not candidate:
                continue
            try:
                value = json.loads(candidate)
            except (ValueError, RecursionError):
                continue
            try:
                return self._coerce(value, "")
            except ArgumentError as exc:
                problems = exc.problems
                if self.wrapped and isinstance(value, dict) and set(value) == {"result"}:
                    try:
                        return self._coerce(value["result"], "result")
                    except ArgumentError as inner:
                        problems = inner.problems
        raise ArgumentError(problems, tool=self.tool_name)

    # -- the native and prompted strategies --------------------------------------------------------

    def constraint(self, native_route: bool) -> dict[str, Any]:
        """The create() keywords that constrain the reply: ``guided_json`` for ``/generate``
        (a JSON-encoded schema string), ``response_format`` for ``/v1``.

        Raises:
            ValueError: the schema is over LightLLM's size limit (says which variable raises it).
        """
        text = json.dumps(self.schema, ensure_ascii=False, separators=(",", ":"))
        limit = int(os.environ.get("LIGHTLLM_JSON_SCHEMA_MAX_LENGTH", DEFAULT_JSON_SCHEMA_MAX_LENGTH))
        size = len(text.encode("utf-8"))
        if size >= limit:
            raise ValueError(f"the output schema is {size} bytes; LightLLM accepts guided JSON schemas shorter than "
                             f"{limit} bytes. Start the server with LIGHTLLM_JSON_SCHEMA_MAX_LENGTH set higher (and set "
                             f"the same variable here), simplify the type, or use output_strategy='tool'")
        if native_route:
            return {"extra_body": {"parameters": {"guided_json": text}}}
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": self.name[:64], "schema": self.schema, "strict": True}}}

    def instruction(self) -> str:
        return ("When you give your final answer, reply with only a JSON value (no other text, no code fence) "
                "that matches this JSON Schema:\n" + json.dumps(self.schema, ensure_ascii=False))

    def correction(self, error: ArgumentError) -> str:
        lines = "\n".join(f"- {path}: {message}" if path else f"- {message}" for path, message in error.problems)
        return f"Your answer does not match the required JSON Schema:\n{lines}\nReply again with only the corrected JSON value."

    def reminder(self) -> str:
        return f"Give your final answer now by calling the {self.tool_name} tool; do not answer in text."
