"""Every error toolkit raises.

The tree::

    ToolkitError
    ├── SchemaError            a function cannot become a tool (raised at decoration)
    ├── ArgumentError          arguments do not fit a tool's schema (also a ValueError)
    ├── ToolExecutionError     a tool raised, with on_tool_error="raise"
    ├── OutputValidationError  the model's typed output stayed invalid past output_retries
    ├── TemplateError          a chat template failed to load, compile or render (also a ValueError)
    └── APIError               anything between us and the server
        ├── APIConnectionError
        │   └── APITimeoutError
        ├── APIResponseValidationError   a 200 whose body cannot be understood
        └── APIStatusError     a non-2xx answer (status_code, body, message)
            ├── BadRequestError        400, 417, 422
            ├── AuthenticationError    401, 403
            ├── NotFoundError          404
            ├── RateLimitError         429
            └── InternalServerError    >= 500

Errors raised from inside ``run()`` carry the run so far as ``error.result``, so no
transcript is lost when something fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "InternalServerError",
    "NotFoundError",
    "OutputValidationError",
    "RateLimitError",
    "SchemaError",
    "TemplateError",
    "ToolExecutionError",
    "ToolRetry",
    "ToolkitError",
]


class ToolkitError(Exception):
    """Root of every error toolkit raises."""

    #: The run so far (a ``RunResult``) when the error escaped from ``run()``.
    result: Any = None


class SchemaError(ToolkitError, TypeError):
    """A function, parameter or type hint that toolkit cannot turn into a JSON Schema."""


class ArgumentError(ToolkitError, ValueError):
    """Arguments that do not fit a schema.

    ``problems`` holds every problem found, as ``(path, message)`` pairs; ``str()`` is
    short and written for a model to act on.
    """

    def __init__(self, problems: Sequence[tuple[str, str]], *, tool: str | None = None) -> None:
        self.problems = list(problems)
        self.tool = tool
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"Invalid arguments for tool '{self.tool}'" if self.tool else "Invalid value"
        lines = [f"- {path}: {message}" if path else f"- {message}" for path, message in self.problems]
        return head + ":\n" + "\n".join(lines)


class ToolExecutionError(ToolkitError):
    """A tool raised while ``run()`` was set to ``on_tool_error="raise"``."""

    def __init__(self, message: str, *, tool: str, call_id: str | None = None) -> None:
        super().__init__(message)
        self.tool = tool
        self.call_id = call_id


class OutputValidationError(ToolkitError):
    """The model's typed output (``run(..., output_type=...)``) was still invalid after
    ``output_retries`` corrections. ``problems`` holds the last problems, as ``(path, message)``."""

    def __init__(self, message: str, *, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class ToolRetry(Exception):  # noqa: N818 (a signal a tool raises, named for what it asks)
    """Raised by a tool to ask the model to call it again differently:
    ``raise ToolRetry("the date must be in the future")``. The message goes back to the model as
    the result, counted per tool against ``@tool(max_retries=...)`` (default 2)."""


class TemplateError(ToolkitError, ValueError):
    """A chat template that cannot be loaded, compiled or rendered (the cause is chained)."""


class APIError(ToolkitError):
    """Something went wrong between the client and the server."""

    def __init__(self, message: str, *, request: Any = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class APIResponseValidationError(APIError):
    """The server answered 200 with a body that cannot be understood."""


class APIStatusError(APIError):
    """The server answered with a non-success status."""

    def __init__(self, message: str, *, status_code: int, body: Any = None, request: Any = None) -> None:
        super().__init__(message, request=request, body=body)
        self.status_code = status_code

    def __str__(self) -> str:
        return f"Error code: {self.status_code} - {self.message}"


class BadRequestError(APIStatusError):
    """400, 417 or 422: the server rejected the request."""


class AuthenticationError(APIStatusError):
    """401 or 403: a proxy in front of the server refused the credentials."""


class NotFoundError(APIStatusError):
    """404: wrong path or base URL."""


class RateLimitError(APIStatusError):
    """429: the server is busy."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""
