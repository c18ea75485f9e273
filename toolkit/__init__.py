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
from typing import Any

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    SchemaError,
    TemplateError,
    ToolExecutionError,
    ToolkitError,
)
from .tool import Injected, RunContext, Tool, tool

__version__ = "0.1.0"

# Public names that live in heavier modules, loaded on first attribute access.
_LAZY = {
    "ChatTemplate": "toolkit.client",
    "LightLLMClient": "toolkit.client",
    "OpenAICompatibleClient": "toolkit.client",
    "RunResult": "toolkit.run",
    "ToolCallRecord": "toolkit.run",
    "iter_run": "toolkit.run",
    "run": "toolkit.run",
    "run_many": "toolkit.run",
}

__all__ = sorted([
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "Injected",
    "InternalServerError",
    "NotFoundError",
    "RateLimitError",
    "RunContext",
    "SchemaError",
    "TemplateError",
    "Tool",
    "ToolExecutionError",
    "ToolkitError",
    "tool",
    *_LAZY,
])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    # bind every public name of that module at once: importing toolkit.run also binds the
    # package attribute "run" to the submodule, which the function must replace
    for other, where in _LAZY.items():
        if where == module:
            globals()[other] = getattr(loaded, other)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
