"""MCP both ways: a real MCP server (official SDK) used by run() over stdio and streamable HTTP, and
`toolkit serve` called by the official MCP client. Few and short: each starts a subprocess."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from toolkit import LightLLMClient, OpenAICompatibleClient, run, tool
from toolkit.mcp import MCPError, MCPServer

from .conftest import ROOT, call

WEATHER = str(ROOT / "tests" / "mcp_servers" / "weather.py")



@pytest.fixture(scope="module")
def weather(tmp_path_factory):
    log = open(tmp_path_factory.mktemp("mcp") / "stderr.txt", "w")
    with MCPServer.stdio([sys.executable, WEATHER], errlog=log, timeout=20) as server:
        yield server
    log.close()


@tool
def get_time(tz: str) -> str:
    """The time in a timezone."""
    return f"12:00 {tz}"


def test_mcp_tools_in_a_run_end_to_end(weather, server):
    tools = weather.tools(prefix="w_", exclude=["die", "hang"])
    assert [t.name for t in tools] == ["w_get_forecast", "w_radar", "w_fails"]
    assert tools[0].parameters["required"] == ["city"]
    server.queue(call("w_get_forecast", city="Paris", days=2) + call("w_fails", reason="x") + call("get_time", tz="UTC")
                 + call("w_get_forecast", town="Paris"), "Sunny, 12:00.")
    with OpenAICompatibleClient(base_url=server.url) as client:
        result = run("Weather and time?", tools=[*tools, get_time], client=client)
    forecast, failed, time_, invalid = result.tool_calls
    assert forecast.content == "Paris: sunny for 2 day(s)" and time_.result == "12:00 UTC"
    assert failed.error.startswith("MCPToolError") and failed.content.startswith("Error: w_fails raised MCPToolError")
    assert "city" in invalid.content and "required property" in invalid.content  # validated before the call
    assert result.output == "Sunny, 12:00."


def test_mcp_images_become_image_parts(weather, server):
    server.queue(call("radar", city="Oslo"), "A radar.")
    with LightLLMClient(base_url=server.url) as client:
        result = run("radar?", tools=weather.tools(include=["radar"]), client=client)
    assert result.tool_calls[0].content == "radar of Oslo\n[image 1]"
    assert server.posts[-1].body["multimodal_params"]["images"][0]["type"] == "base64"


def test_a_hung_call_is_a_clear_error_not_a_hung_run(weather):
    started = time.monotonic()
    with pytest.raises(MCPError, match="did not answer within 0.3 seconds"):
        weather.call("hang", {"seconds": 3}, timeout=0.3)
    assert time.monotonic() - started < 2
    assert weather.call("get_forecast", {"city": "Rome"}) == "Rome: sunny for 1 day(s)"  # still usable


def test_name_collisions_name_both_servers(weather):
    @tool(name="get_forecast")
    def mine(city: str) -> str:
        """Mine."""
        return city

    with pytest.raises(ValueError, match=r"one from your code, one from MCP server .*weather\.py"):
        run("x", tools=[mine, *weather.tools(include=["get_forecast"])], client=object())


def test_a_server_that_dies_or_never_starts(tmp_path):
    with open(tmp_path / "err.txt", "w") as log:
        with MCPServer.stdio([sys.executable, WEATHER], errlog=log, timeout=20) as dying:
            with pytest.raises(MCPError):
                dying.call("die", timeout=5)
            with pytest.raises(MCPError):
                dying.call("get_forecast", {"city": "x"}, timeout=5)
        portals = {t for t in threading.enumerate() if "portal" in t.name}
        pid_file = tmp_path / "pid"
        never = (f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
                 "print('garbage, not MCP', flush=True); time.sleep(30)")
        with pytest.raises(MCPError, match="cannot connect|did not finish starting"):
            MCPServer.stdio([sys.executable, "-c", never], errlog=log, timeout=3)
    # nothing of the failed start outlives the error: its event loop and its process are gone
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and (_alive(pid) or {t for t in threading.enumerate() if "portal" in t.name}
                                           - portals):
        time.sleep(0.05)
    assert not _alive(pid)
    assert not {t for t in threading.enumerate() if "portal" in t.name} - portals


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\tZ" not in next(line for line in status if line.startswith("State:"))
    except FileNotFoundError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamable_http_transport(server, tmp_path):
    port = _free_port()
    log = open(tmp_path / "err.txt", "w")
    process = subprocess.Popen([sys.executable, WEATHER, "http", str(port)], stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with MCPServer.http(f"http://127.0.0.1:{port}/mcp", headers={"X-Team": "a"}, timeout=20) as remote:
            server.queue(call("get_forecast", city="Lima"), "ok")
            with LightLLMClient(base_url=server.url) as client:
                result = run("x", tools=remote.tools(include=["get_forecast"]), client=client)
        assert result.tool_calls[0].content == "Lima: sunny for 1 day(s)"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_toolkit_serve_is_called_by_the_official_client():
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "toolkit", "serve", "examples/tools.py"],
                                   cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT / "examples")})

    async def main():
        async with Client(params, read_timeout_seconds=20) as client:
            listing = await client.list_tools()
            ok = await client.call_tool("calculate", {"expression": "6 * 7"})
            coerced = await client.call_tool("convert_units", {"value": "10", "from_unit": "km", "to_unit": "mi"})
            bad = await client.call_tool("get_weather", {"town": "Paris"})
            raised = await client.call_tool("calculate", {"expression": "__import__('os')"})
            return listing, ok, coerced, bad, raised

    listing, ok, coerced, bad, raised = asyncio.run(main())
    schemas = {t.name: t.input_schema for t in listing.tools}
    from .examples_tools_schema import expected_schemas
    assert schemas == expected_schemas()
    assert ok.content[0].text == "42" and not ok.is_error
    assert coerced.content[0].text == "6.21371"  # "10" coerced to a number by toolkit
    assert bad.is_error and "city: required property is missing" in bad.content[0].text
    assert raised.is_error and "ValueError" in raised.content[0].text
