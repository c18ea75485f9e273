"""toolkit: give a self-hosted LLM (LightLLM) real Python tools.

    from toolkit import tool, run

    @tool
    def get_weather(city: str) -> dict:
        '''Get the current weather for a city.'''

    run("What's the weather in Paris?", tools=[get_weather])

Importing toolkit has no side effects and stays light: the HTTP client, the run loop and
jinja2 load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError as APIConnectionError,
    APIError as APIError,
    APIResponseValidationError as APIResponseValidationError,
    APIStatusError as APIStatusError,
    APITimeoutError as APITimeoutError,
    ArgumentError as ArgumentError,
    AuthenticationError as AuthenticationError,
    BadRequestError as BadRequestError,
    InternalServerError as InternalServerError,
    NotFoundError as NotFoundError,
    OutputValidationError as OutputValidationError,
    RateLimitError as RateLimitError,
    SchemaError as SchemaError,
    TemplateError as TemplateError,
    ToolExecutionError as ToolExecutionError,
    ToolkitError as ToolkitError,
    ToolRetry as ToolRetry,
)
from .tool import Injected as Injected, RunContext as RunContext, Tool as Tool, tool as tool

if TYPE_CHECKING:  # the names below load on first use (see __getattr__); type checkers see them here
    from ._events import (
        Event as Event,
        Final as Final,
        ModelResponse as ModelResponse,
        OutputDelta as OutputDelta,
        ReasoningDelta as ReasoningDelta,
        RunResult as RunResult,
        TextDelta as TextDelta,
        ToolCallDelta as ToolCallDelta,
        ToolCallRecord as ToolCallRecord,
        ToolCallRequest as ToolCallRequest,
        ToolCallStarted as ToolCallStarted,
        ToolResult as ToolResult,
        Usage as Usage,
        UsageLimits as UsageLimits,
    )
    from ._history import trim_tool_results as trim_tool_results
    from ._loop import iter_run as iter_run, run as run, run_many as run_many
    from ._results import Image as Image
    from .client import (
        ChatTemplate as ChatTemplate,
        LightLLMClient as LightLLMClient,
        Limits as Limits,
        OpenAICompatibleClient as OpenAICompatibleClient,
        ResponseLimits as ResponseLimits,
        Timeout as Timeout,
    )

__version__ = "0.1.0"

# Public names that live in heavier modules, loaded on first attribute access.
_LAZY = {
    "ChatTemplate": "toolkit.client",
    "LightLLMClient": "toolkit.client",
    "Limits": "toolkit.client",
    "OpenAICompatibleClient": "toolkit.client",
    "ResponseLimits": "toolkit.client",
    "Timeout": "toolkit.client",
    "Event": "toolkit._events",
    "Final": "toolkit._events",
    "Image": "toolkit._results",
    "ModelResponse": "toolkit._events",
    "OutputDelta": "toolkit._events",
    "ReasoningDelta": "toolkit._events",
    "RunResult": "toolkit._events",
    "TextDelta": "toolkit._events",
    "ToolCallDelta": "toolkit._events",
    "ToolCallRecord": "toolkit._events",
    "ToolCallRequest": "toolkit._events",
    "ToolCallStarted": "toolkit._events",
    "ToolResult": "toolkit._events",
    "Usage": "toolkit._events",
    "UsageLimits": "toolkit._events",
    "trim_tool_results": "toolkit._history",
    "iter_run": "toolkit._loop",
    "run": "toolkit._loop",
    "run_many": "toolkit._loop",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "ChatTemplate",
    "Event",
    "Final",
    "Image",
    "Injected",
    "InternalServerError",
    "LightLLMClient",
    "Limits",
    "ModelResponse",
    "NotFoundError",
    "OpenAICompatibleClient",
    "OutputDelta",
    "OutputValidationError",
    "RateLimitError",
    "ReasoningDelta",
    "ResponseLimits",
    "RunContext",
    "RunResult",
    "SchemaError",
    "TemplateError",
    "TextDelta",
    "Timeout",
    "Tool",
    "ToolCallDelta",
    "ToolCallRecord",
    "ToolCallRequest",
    "ToolCallStarted",
    "ToolExecutionError",
    "ToolResult",
    "ToolRetry",
    "ToolkitError",
    "Usage",
    "UsageLimits",
    "iter_run",
    "run",
    "run_many",
    "tool",
    "trim_tool_results",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
