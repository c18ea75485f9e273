"""MCP tools in ``run()``, synchronously: ``pip install "toolkit-lightllm[mcp]"``.

    from toolkit.mcp import MCPServer
    with MCPServer.stdio(["python", "weather_server.py"]) as weather:
        result = run("...", tools=[*weather.tools(), get_time])

Built on the official ``mcp`` SDK (2.x), whose client is async: each ``MCPServer`` runs it on
one private event-loop thread, and every method here blocks until that loop answers (bounded by
``timeout``). No ``async``/``await`` reaches the caller. ``serve(tools)`` is the other direction:
toolkit tools exposed as an MCP server (``toolkit serve FILE``).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._exceptions import ArgumentError, ToolkitError
from ._results import Image
from .tool import TOOL_NAME, Tool

__all__ = ["MCPError", "MCPServer", "MCPTool", "MCPToolError", "serve"]

DEFAULT_TIMEOUT = 30.0


class MCPError(ToolkitError):
    """An MCP server could not be started, reached or understood, or did not answer in time."""


class MCPToolError(Exception):
    """An MCP tool answered with ``isError``: its text is fed back to the model as the error."""


class MCPServer:
    """A connection to one MCP server; its tools become ordinary toolkit ``Tool`` objects.

    Build one with ``MCPServer.stdio([...])`` or ``MCPServer.http(url, headers=...)``; use it as a
    context manager or call ``close()``.
    """

    def __init__(self, target: Any, *, name: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            import anyio.from_thread
            import mcp
        except ImportError as exc:  # pragma: no cover - the extra is installed in CI
            raise ImportError('toolkit.mcp needs the mcp extra: pip install "toolkit-lightllm[mcp]"') from exc
        self.name = name
        self.timeout = timeout
        self._client: Any = None
        self._failure: BaseException | None = None
        # the SDK's async client runs on one private event-loop thread (anyio's blocking portal);
        # every call here blocks on it, so nothing async reaches the caller
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._stack = contextlib.ExitStack()
        opening = threading.Thread(target=self._open, args=(mcp, target), daemon=True, name=f"toolkit-mcp-{name}")
        opening.start()
        opening.join(timeout)
        if opening.is_alive():
            self.close()
            raise MCPError(f"MCP server {name} did not finish starting within {timeout:g} seconds")
        if self._failure is not None:
            failure = self._failure
            self.close()
            raise MCPError(f"cannot connect to MCP server {name}: {type(failure).__name__}: {failure}") from failure

    def _open(self, mcp: Any, target: Any) -> None:
        """Enter the transport and the SDK client on the portal's loop (the async context managers
        are driven from here, synchronously)."""
        try:
            transport = target
            if isinstance(target, tuple) and target[0] == "http":
                import httpx2
                from mcp.client.streamable_http import streamable_http_client

                _, url, headers = target
                http = self._stack.enter_context(self._portal.wrap_async_context_manager(
                    httpx2.AsyncClient(headers=headers, timeout=self.timeout)))
                transport = streamable_http_client(url, http_client=http)
            self._client = self._stack.enter_context(self._portal.wrap_async_context_manager(
                mcp.Client(transport, read_timeout_seconds=self.timeout, cache=None)))
        except BaseException as exc:  # noqa: BLE001 (reported by __init__)
            self._failure = exc

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def stdio(cls, command: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | None = None,
              name: str | None = None, timeout: float = DEFAULT_TIMEOUT, errlog: Any = None) -> MCPServer:
        """Start ``command`` (e.g. ``["python", "server.py"]``) and talk MCP over its stdin/stdout.

        ``errlog``: a text file for the server's stderr (default: this process's stderr)."""
        import os
        import sys

        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        if isinstance(command, str) or not command:
            raise ValueError("command is a non-empty list such as ['python', 'server.py']")
        params = StdioServerParameters(command=command[0], args=list(command[1:]), env=dict(env) if env else None,
                                       cwd=cwd)
        label = name or " ".join([os.path.basename(command[0]), *command[1:]])
        return cls(stdio_client(params, errlog=errlog or sys.stderr), name=label, timeout=timeout)

    @classmethod
    def http(cls, url: str, *, headers: Mapping[str, str] | None = None, name: str | None = None,
             timeout: float = DEFAULT_TIMEOUT) -> MCPServer:
        """Connect to a streamable-HTTP MCP endpoint (``http://host:port/mcp``)."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"an MCP HTTP url starts with http:// or https://, got {url!r}")
        from .client._transport import redact_url

        return cls(("http", url, dict(headers or {})), name=name or redact_url(url), timeout=timeout)

    # -- calls on the portal ------------------------------------------------------------------------

    def _call(self, method: str, *args: Any, timeout: float | None) -> Any:
        """``self._client.<method>(*args)`` run on the portal, waited for at most ``timeout``."""
        if self._client is None:
            raise MCPError(f"MCP server {self.name} is not connected")
        future = self._portal.start_task_soon(getattr(self._client, method), *args)
        wait = timeout if timeout is not None else self.timeout
        try:
            return future.result(wait)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise MCPError(f"MCP server {self.name} did not answer within {wait:g} seconds") from None
        except Exception as exc:
            raise MCPError(f"MCP server {self.name} failed: {type(exc).__name__}: {exc}") from exc

    # -- the API ----------------------------------------------------------------------------------------

    def tools(self, *, prefix: str = "", include: Iterable[str] | None = None,
              exclude: Iterable[str] | None = None, timeout: float | None = None) -> list[MCPTool]:
        """The server's tools as ``Tool`` objects (names filtered, then prefixed).

        Raises:
            MCPError: the server could not list its tools.
        """
        listing = self._call("list_tools", timeout=timeout)
        wanted = set(include) if include is not None else None
        unwanted = set(exclude or ())
        out = []
        for spec in listing.tools:
            if (wanted is not None and spec.name not in wanted) or spec.name in unwanted:
                continue
            out.append(MCPTool(self, spec.name, prefix + spec.name, spec.description or "",
                               dict(spec.input_schema or {"type": "object"})))
        return out

    def call(self, name: str, arguments: Mapping[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Call a tool of the server: its text (a str), or a list mixing str and ``Image``.

        Raises:
            MCPToolError: the tool answered with ``isError``.
            MCPError: the server died, hung past ``timeout`` or sent something unreadable.
        """
        result = self._call("call_tool", name, dict(arguments or {}), timeout=timeout)
        parts = _content(getattr(result, "content", None) or [])
        if getattr(result, "is_error", False):
            raise MCPToolError(" ".join(p for p in parts if isinstance(p, str)) or "the tool reported an error")
        if not parts and getattr(result, "structured_content", None) is not None:
            return result.structured_content
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)
        return parts

    def close(self) -> None:
        """Disconnect (and stop a stdio server's process)."""
        self._client = None
        closing = threading.Thread(target=self._close, daemon=True)
        closing.start()
        closing.join(self.timeout)  # a server that will not stop is left to its daemon thread

    def _close(self) -> None:
        try:
            self._stack.close()
        except BaseException:  # noqa: BLE001, S110 (a broken connection has nothing left to close)
            pass
        try:  # cancel what still runs on the loop (a start that timed out): nothing outlives close()
            self._portal.call(self._portal.stop, True)
        except BaseException:  # noqa: BLE001, S110 (already stopped)
            pass
        try:
            self._portal_cm.__exit__(None, None, None)
        except BaseException:  # noqa: BLE001, S110
            pass

    def __enter__(self) -> MCPServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MCPServer({self.name!r})"


def _content(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        kind = getattr(item, "type", None)
        if kind == "text":
            out.append(item.text)
        elif kind == "image":
            try:
                out.append(Image(data=base64.b64decode(item.data), mime=item.mime_type or "image/png"))
            except (ValueError, TypeError):
                out.append("[an image that could not be decoded]")
        else:
            out.append(f"[{kind or 'unknown'} content]")
    return out


class MCPTool(Tool):
    """A tool of an MCP server: its ``inputSchema`` is the schema; arguments are validated
    against it with ``jsonschema`` before the call."""

    def __init__(self, server: MCPServer, remote_name: str, name: str, description: str,
                 parameters: dict[str, Any]) -> None:  # noqa: D107
        if not TOOL_NAME.match(name):
            raise MCPError(f"MCP server {server.name} has a tool named {name!r}, which models cannot call; "
                           f"exclude it with exclude=[{remote_name!r}]")
        self.server = server
        self.remote_name = remote_name
        self.name = name
        self.description = description
        self.parameters = parameters
        self.strict = False
        self.parallel = True
        self.timeout = None
        self.max_calls = None
        self.max_retries = 2
        self.origin = f"MCP server {server.name}"
        self._binding = None
        self._bound = None
        self._params = []
        self._func = self.__call__
        self._validator = _validator(parameters)

    def parse_arguments(self, arguments: Any) -> dict[str, Any]:
        values, _ = self.read_arguments(arguments)
        problems = [("/".join(str(p) for p in error.absolute_path).replace("/", "."), error.message)
                    for error in self._validator.iter_errors(values)]
        if problems:
            raise ArgumentError(sorted(problems), tool=self.name)
        return values

    def call_with(self, values: Mapping[str, Any], *, context: Any = None, run_context: Any = None) -> Any:
        return self.server.call(self.remote_name, values)

    def __call__(self, **arguments: Any) -> Any:
        return self.server.call(self.remote_name, arguments)

    def __repr__(self) -> str:
        return f"<MCPTool {self.name} of {self.server.name}>"


def _validator(schema: dict[str, Any]) -> Any:
    try:
        import jsonschema
        import jsonschema.validators
    except ImportError as exc:  # pragma: no cover - part of the extra
        raise ImportError('toolkit.mcp validates arguments with jsonschema: pip install "toolkit-lightllm[mcp]"') \
            from exc
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError:
        cls = jsonschema.Draft202012Validator
        schema = {"type": "object"}
    return cls(schema)


# -- the other direction: toolkit tools as an MCP server ----------------------------------------------------

def serve(tools: Sequence[Tool], *, name: str = "toolkit", transport: str = "stdio", host: str = "127.0.0.1",
          port: int = 8000) -> None:
    """Serve ``tools`` over MCP until stopped: toolkit's schemas, and toolkit's repair, validation and
    coercion on the way in; a tool that raises or gets bad arguments answers with ``isError``."""
    import anyio.from_thread
    import anyio.to_thread
    import mcp_types as types
    from mcp.server.lowlevel import Server

    from ._results import tool_content

    registry = {t.name: t for t in tools}

    def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=[
            types.Tool(name=t.name, description=t.description or "", input_schema=t.parameters)
            for t in registry.values()])

    def call_tool(ctx: Any, params: Any) -> Any:
        target = registry.get(params.name)
        if target is None:
            return _error(types, f"there is no tool named {params.name!r}; tools: {', '.join(sorted(registry))}")
        try:
            text, parts = tool_content(target.call_with(target.parse_arguments(dict(params.arguments or {}))))
        except ArgumentError as exc:
            return _error(types, str(exc))
        except Exception as exc:  # noqa: BLE001 (reported to the caller as the tool's error)
            return _error(types, f"{type(exc).__name__}: {exc}")
        content: list[Any] = []
        for part in parts or [{"type": "text", "text": text}]:
            if part["type"] == "text":
                content.append(types.TextContent(type="text", text=part["text"]))
            else:
                header, _, data = part["image_url"]["url"].partition(",")
                content.append(types.ImageContent(type="image", data=data, mime_type=header[5:].split(";")[0]))
        return types.CallToolResult(content=content)

    # the SDK awaits its handlers: ours are plain functions, run on worker threads by anyio
    def in_thread(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        return lambda ctx, params: anyio.to_thread.run_sync(handler, ctx, params)

    server = Server(name, on_list_tools=in_thread(list_tools), on_call_tool=in_thread(call_tool))
    if transport == "stdio":
        from mcp.server.stdio import stdio_server

        with anyio.from_thread.start_blocking_portal() as portal, \
                portal.wrap_async_context_manager(stdio_server()) as (read, write):
            portal.call(server.run, read, write, server.create_initialization_options())
    elif transport == "http":
        import uvicorn

        app = server.streamable_http_app(host=host)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    else:
        raise ValueError(f"transport is 'stdio' or 'http', got {transport!r}")


def _error(types: Any, message: str) -> Any:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)
