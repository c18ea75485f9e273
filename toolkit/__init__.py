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
)
from ._exceptions import (
    APIError as APIError,
)
from ._exceptions import (
    APIResponseValidationError as APIResponseValidationError,
)
from ._exceptions import (
    APIStatusError as APIStatusError,
)
from ._exceptions import (
    APITimeoutError as APITimeoutError,
)
from ._exceptions import (
    ArgumentError as ArgumentError,
)
from ._exceptions import (
    AuthenticationError as AuthenticationError,
)
from ._exceptions import (
    BadRequestError as BadRequestError,
)
from ._exceptions import (
    InternalServerError as InternalServerError,
)
from ._exceptions import (
    NotFoundError as NotFoundError,
)
from ._exceptions import (
    RateLimitError as RateLimitError,
)
from ._exceptions import (
    SchemaError as SchemaError,
)
from ._exceptions import (
    TemplateError as TemplateError,
)
from ._exceptions import (
    ToolExecutionError as ToolExecutionError,
)
from ._exceptions import (
    ToolkitError as ToolkitError,
)
from .tool import Injected as Injected
from .tool import RunContext as RunContext
from .tool import Tool as Tool
from .tool import tool as tool

if TYPE_CHECKING:  # the names below load on first use (see __getattr__); type checkers see them here
    from ._loop import (
        Final as Final,
    )
    from ._loop import (
        ModelResponse as ModelResponse,
    )
    from ._loop import (
        RunResult as RunResult,
    )
    from ._loop import (
        ToolCallRecord as ToolCallRecord,
    )
    from ._loop import (
        ToolCallRequest as ToolCallRequest,
    )
    from ._loop import (
        ToolCallStarted as ToolCallStarted,
    )
    from ._loop import (
        ToolResult as ToolResult,
    )
    from ._loop import (
        Usage as Usage,
    )
    from ._loop import (
        iter_run as iter_run,
    )
    from ._loop import (
        run as run,
    )
    from ._loop import (
        run_many as run_many,
    )
    from .client import (
        ChatTemplate as ChatTemplate,
    )
    from .client import (
        LightLLMClient as LightLLMClient,
    )
    from .client import (
        Limits as Limits,
    )
    from .client import (
        OpenAICompatibleClient as OpenAICompatibleClient,
    )
    from .client import (
        ResponseLimits as ResponseLimits,
    )
    from .client import (
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
