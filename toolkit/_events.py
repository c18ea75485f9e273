"""What a run produces: the result, the records of its tool calls, and the events of ``iter_run``."""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar, Union

__all__ = ["Event", "Final", "ModelResponse", "OutputDelta", "ReasoningDelta", "RunResult", "TextDelta",
           "ToolCallDelta", "ToolCallRecord", "ToolCallRequest", "ToolCallStarted", "ToolResult", "Usage",
           "UsageLimits"]

OutputT = TypeVar("OutputT")


@dataclasses.dataclass
class Usage:
    """Tokens summed over every model call of a run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, usage: Any) -> None:
        """Add a response's ``usage`` (None is skipped)."""
        if usage is None:
            return
        self.prompt_tokens += usage.prompt_tokens or 0
        self.completion_tokens += usage.completion_tokens or 0
        self.total_tokens += usage.total_tokens or 0


@dataclasses.dataclass(frozen=True)
class UsageLimits:
    """Budgets for one run; a limit the next step would cross ends the loop (``stop_reason="limit"``).

    ``max_requests`` counts the model calls that may use tools (``max_steps`` is its shorthand);
    the token limits compare what the run has used so far.
    """

    max_requests: int | None = None
    max_tool_calls: int | None = None
    max_total_tokens: int | None = None
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"UsageLimits.{field.name} must be a positive integer or None, got {value!r}")

    def token_limit_reached(self, usage: Usage) -> str | None:
        """The name of the first token limit ``usage`` has reached, or None."""
        for name, used in (("max_total_tokens", usage.total_tokens), ("max_prompt_tokens", usage.prompt_tokens),
                           ("max_completion_tokens", usage.completion_tokens)):
            limit = getattr(self, name)
            if limit is not None and used >= limit:
                return name
        return None


@dataclasses.dataclass
class ToolCallRecord:
    """One tool call of a run, as executed (or refused)."""

    id: str
    name: str
    #: The arguments after repair, validation and coercion, as the function received them
    #: (``{"days": 3}`` for ``days: int`` even when the model sent ``"3"``); None when they
    #: could not be read or did not fit the schema.
    arguments: dict[str, Any] | None
    #: What the function returned (None after an error).
    result: Any = None
    #: The text sent back to the model.
    content: str = ""
    #: Why the call failed or was refused (None on success).
    error: str | None = None
    seconds: float = 0.0
    step: int = 0
    started: float = 0.0
    finished: float = 0.0
    #: What the tool raised (kept for ``on_tool_error="raise"``).
    exception: BaseException | None = dataclasses.field(default=None, repr=False, compare=False)
    #: The arguments exactly as the model wrote them (a JSON string, before any repair).
    raw_arguments: str | None = None
    #: The call ran longer than its timeout; its worker was abandoned and a late result discarded.
    timed_out: bool = False
    #: Content parts sent instead of ``content`` when the tool returned images (``toolkit.Image``).
    parts: list[dict[str, Any]] | None = None

    def message(self) -> dict[str, Any]:
        """The ``role: "tool"`` message sent back to the model."""
        return {"role": "tool", "tool_call_id": self.id, "content": self.parts if self.parts else self.content}


@dataclasses.dataclass
class RunResult(Generic[OutputT]):
    """What a run did: the answer, the transcript, every tool call, tokens, and why it stopped."""

    #: The final answer: the text (tool-call markup the model wrote in it taken out), or with
    #: ``output_type=`` a value of that type.
    output: OutputT | None
    #: The full transcript in OpenAI wire shape; pass it back in to continue the conversation.
    messages: list[dict[str, Any]]
    tool_calls: list[ToolCallRecord]
    #: Model calls made.
    steps: int
    usage: Usage
    #: "stop", "output" (a typed output was read), "length", "max_steps", "limit" (see ``limit``),
    #: "deadline", "required_unmet" (tool_choice="required" and the model never called a tool),
    #: "error", or a finish_reason the server sent.
    stop_reason: str
    #: The last model response.
    response: Any = None
    #: Tool calls the model wrote in its final answer that were not run (the final call of
    #: ``max_steps`` offers no tools); their markup stays in the transcript, not in ``output``.
    unrun_tool_calls: list[Any] = dataclasses.field(default_factory=list)
    #: Which ``UsageLimits`` field ended the run (with ``stop_reason="limit"``).
    limit: str | None = None


@dataclasses.dataclass
class ModelResponse:
    """A model call finished: ``response`` is its ``ChatCompletion``."""

    type = "model_response"
    step: int
    response: Any


@dataclasses.dataclass
class TextDelta:
    """A piece of the answer's text as it streams (``iter_run(stream=True)``)."""

    type = "text_delta"
    step: int
    text: str


@dataclasses.dataclass
class ReasoningDelta:
    """A piece of the model's reasoning as it streams."""

    type = "reasoning_delta"
    step: int
    text: str


@dataclasses.dataclass
class ToolCallDelta:
    """A piece of a tool call as it streams: ``name`` on its first delta, argument text after."""

    type = "tool_call_delta"
    step: int
    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclasses.dataclass
class OutputDelta:
    """The typed output's JSON text so far, as the ``final_result`` call streams."""

    type = "output_delta"
    step: int
    partial: str


@dataclasses.dataclass
class ToolCallStarted:
    """A tool call is about to run (or be refused); ``arguments`` is its JSON text."""

    type = "tool_call"
    step: int
    id: str
    name: str
    arguments: str


@dataclasses.dataclass
class ToolResult:
    """A tool call finished (or was refused): its record, as sent back to the model."""

    type = "tool_result"
    step: int
    record: ToolCallRecord


@dataclasses.dataclass
class Final:
    """The run ended: ``result`` is the ``RunResult``."""

    type = "final"
    result: RunResult[Any]


#: Everything ``iter_run`` yields.
Event = Union[ModelResponse, TextDelta, ReasoningDelta, ToolCallDelta, OutputDelta, ToolCallStarted, ToolResult,
              Final]


@dataclasses.dataclass
class ToolCallRequest:
    """What ``approve`` sees: the call about to run."""

    id: str
    name: str
    arguments: dict[str, Any]
    step: int
