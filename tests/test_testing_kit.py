"""toolkit.testing: scripted clients, the shipped test server, the offline demo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from toolkit import LightLLMClient, ToolkitError, run, tool
from toolkit.testing import FunctionClient, LightLLMTestServer, ScriptedClient, example_arguments

from .conftest import ROOT


@tool
def get_weather(city: str) -> dict:
    """Get the weather for a city."""
    return {"city": city, "temperature": 21}


def test_scripted_client_with_text_and_dicts():
    client = ScriptedClient(['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
                             {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}]},
                             {"content": "Paris 21C, Rome 21C.", "reasoning": "both warm"}])
    result = run("Weather in Paris and Rome?", tools=[get_weather], client=client, temperature=0.1)
    assert result.output == "Paris 21C, Rome 21C." and [r.arguments["city"] for r in result.tool_calls] == [
        "Paris", "Rome"]
    assert len(client.requests) == 3 and client.requests[0].params == {"temperature": 0.1}
    assert client.requests[0].tools[0]["function"]["name"] == "get_weather"
    assert client.requests[2].messages[-1]["role"] == "tool"
    assert result.messages[-1]["reasoning"] == "both warm"


def test_scripted_client_streams_the_same_result():
    script = ['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>', "Cold."]
    plain = run("x", tools=[get_weather], client=ScriptedClient(script))
    streamed = run("x", tools=[get_weather], client=ScriptedClient(script), stream=True)
    assert streamed.output == plain.output == "Cold." and streamed.usage == plain.usage
    assert [r.result for r in streamed.tool_calls] == [r.result for r in plain.tool_calls]


def test_scripted_client_runs_out_with_a_clear_error():
    with pytest.raises(ToolkitError, match="no answer left") as info:
        run("x", client=ScriptedClient([]))
    assert info.value.result.messages == [{"role": "user", "content": "x"}]


def test_function_client_decides_each_answer():
    def model(messages, tools):
        if messages[-1]["role"] == "tool":
            return "Done: " + messages[-1]["content"]
        return {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Lima"}}]}

    result = run("x", tools=[get_weather], client=FunctionClient(model))
    assert result.output == 'Done: {"city": "Lima", "temperature": 21}'


def test_the_shipped_server_as_a_context_manager():
    with LightLLMTestServer() as server:
        server.script(['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', "21C"])
        with LightLLMClient(base_url=server.base_url) as client:
            assert run("x", tools=[get_weather], client=client).output == "21C"
        assert [r.path for r in server.posts] == ["/generate", "/generate"]
        assert "<tool_response>" in server.posts[1].body["inputs"]


def test_readme_testing_section_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing your tools", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(code) == 2
    for block in code:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)  # our README's own code
        tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
        assert tests
        for test in tests:
            test()


@pytest.mark.parametrize("schema, expected", [
    ({"type": "object", "properties": {"city": {"type": "string", "description": 'City, e.g. "Paris"'},
                                       "days": {"type": "integer"}}, "required": ["city", "days"]},
     {"city": "Paris", "days": 1}),
    ({"type": "object", "properties": {"unit": {"enum": ["c", "f"]}, "when": {"type": "string", "format": "date"},
                                       "tags": {"type": "array", "items": {"type": "string"}}},
      "required": ["unit", "when", "tags"]}, {"unit": "c", "when": "2026-01-01", "tags": ["example"]}),
    ({"type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "required": ["p"],
      "$defs": {"P": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}}},
     {"p": {"x": 1.5}}),
])
def test_example_arguments_fit_the_schema(schema, expected):
    import jsonschema

    value = example_arguments(schema)
    assert value == expected
    jsonschema.validate(value, schema)


def test_demo_runs_the_whole_loop_offline():
    out = subprocess.run([sys.executable, "-m", "toolkit", "demo", str(ROOT / "examples" / "tools.py")],
                         capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "examples")})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("[scripted model]") and "No GPU, no network" in lines[0]
    assert '-> get_weather({"city": "Paris"})' in lines
    assert '-> calculate({"expression": "2 * (3 + 4)"})' in lines and "<- calculate: 14" in lines
    assert sum(line.startswith("> request: POST /generate_stream") for line in lines) == 2
    assert lines[-1].startswith("(done: stop_reason=stop, 2 model calls")
    builtin = subprocess.run([sys.executable, "-m", "toolkit", "demo"], capture_output=True, text=True, timeout=60)
    assert builtin.returncode == 0 and '-> get_weather({"city": "Paris"})' in builtin.stdout
    assert json.loads(builtin.stdout.split("<- get_weather: ", 1)[1].splitlines()[0])["city"] == "Paris"
