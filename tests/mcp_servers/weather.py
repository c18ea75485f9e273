"""An MCP server written with the official SDK (mcp 2.x MCPServer), for toolkit's MCP client tests.

    python weather.py                      # stdio
    python weather.py http PORT            # streamable HTTP on 127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import base64
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ImageContent, TextContent

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
server = MCPServer("weather")


@server.tool()
def get_forecast(city: str, days: int = 1) -> str:
    """Forecast for a city."""
    return f"{city}: sunny for {days} day(s)"


@server.tool()
def radar(city: str) -> CallToolResult:
    """A radar picture."""
    return CallToolResult(content=[TextContent(type="text", text=f"radar of {city}"),
                                   ImageContent(type="image", data=PNG, mime_type="image/png")])


@server.tool()
def fails(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"cannot: {reason}")


@server.tool()
def hang(seconds: float) -> str:
    """Sleeps."""
    time.sleep(seconds)
    return "woke"


@server.tool()
def die() -> str:
    """Kills the server."""
    sys.stdout.flush()
    import os

    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
