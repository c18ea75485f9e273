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
    RateLimitError as RateLimitError,
    SchemaError as SchemaError,
    TemplateError as TemplateError,
    ToolExecutionError as ToolExecutionError,
    ToolkitError as ToolkitError,
)
from .tool import Injected as Injected, RunContext as RunContext, Tool as Tool, tool as tool

if TYPE_CHECKING:  # the names below load on first use (see __getattr__); type checkers see them here
    from ._loop import (
        Final as Final,
        ModelResponse as ModelResponse,
        RunResult as RunResult,
        ToolCallRecord as ToolCallRecord,
        ToolCallRequest as ToolCallRequest,
        ToolCallStarted as ToolCallStarted,
        ToolResult as ToolResult,
        Usage as Usage,
        iter_run as iter_run,
        run as run,
        run_many as run_many,
    )
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
    "Final": "toolkit._loop",
    "ModelResponse": "toolkit._loop",
    "RunResult": "toolkit._loop",
    "ToolCallRecord": "toolkit._loop",
    "ToolCallRequest": "toolkit._loop",
    "ToolCallStarted": "toolkit._loop",
    "ToolResult": "toolkit._loop",
    "Usage": "toolkit._loop",
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
    "Final",
    "Injected",
    "InternalServerError",
    "LightLLMClient",
    "Limits",
    "ModelResponse",
    "NotFoundError",
    "OpenAICompatibleClient",
    "RateLimitError",
    "ResponseLimits",
    "RunContext",
    "RunResult",
    "SchemaError",
    "TemplateError",
    "Timeout",
    "Tool",
    "ToolCallRecord",
    "ToolCallRequest",
    "ToolCallStarted",
    "ToolExecutionError",
    "ToolResult",
    "ToolkitError",
    "Usage",
    "iter_run",
    "run",
    "run_many",
    "tool",
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
