"""The toolkit command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from toolkit import LightLLMClient

from .conftest import ROOT

TOOLS = str(ROOT / "examples" / "tools.py")


def toolkit(*args, env=None):
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


def test_inspect_prints_every_schema_and_warnings(tmp_path):
    out = toolkit("inspect", TOOLS)
    assert out.returncode == 0, out.stderr
    decoder, text, schemas = json.JSONDecoder(), out.stdout.strip(), []
    while text:
        value, end = decoder.raw_decode(text)
        schemas.append(value)
        text = text[end:].strip()
    assert [s["function"]["name"] for s in schemas] == ["get_weather", "convert_units", "calculate"]
    loose = tmp_path / "loose.py"
    loose.write_text("from toolkit import tool\n\n@tool\ndef f(x, y: int):\n    return x\n")
    warned = toolkit("inspect", str(loose))
    assert "warning: f: no description" in warned.stderr
    assert "parameter 'x' accepts any value (no type hint)" in warned.stderr
    assert "parameter 'y' is undocumented" in warned.stderr


def test_render_prints_the_exact_prompt():
    out = toolkit("render", TOOLS, "What's the weather in Paris?")
    assert out.returncode == 0, out.stderr
    sys.path.insert(0, str(ROOT / "examples"))
    from toolkit.cli import load_tools

    expected = LightLLMClient().render([{"role": "user", "content": "What's the weather in Paris?"}],
                                       tools=load_tools(TOOLS))
    assert out.stdout == expected


def test_run_prints_calls_results_and_the_answer(server):
    server.queue('<tool_call>\n{"name": "calculate", "arguments": {"expression": "6 * 7"}}\n</tool_call>',
                 "The answer is 42.")
    out = toolkit("run", TOOLS, "What is 6 times 7?", "--base-url", server.url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ['-> calculate({"expression": "6 * 7"})', "<- calculate: 42", "The answer is 42."]


@pytest.mark.parametrize("api", ["generate", "openai"])
def test_unreachable_server_is_one_line_and_exit_1(api):
    out = toolkit("run", TOOLS, "hi", "--base-url", "http://127.0.0.1:9", "--api", api,
                  env={"LIGHTLLM_BASE_URL": ""})
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "cannot reach the server" in out.stderr and "Traceback" not in out.stderr


def test_health(server):
    assert toolkit("health", "--base-url", server.url).returncode == 0
    server.healthy = False
    out = toolkit("health", "--base-url", server.url)
    assert out.returncode == 1 and "unhealthy" in out.stdout


def test_health_reports_each_server_of_a_fleet(server):
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    out = toolkit("health", "--base-url", f"{server.url},{down}")
    assert out.returncode == 1
    assert out.stdout.splitlines() == [f"{server.url}: ok", f"{down}: unhealthy or unreachable"]


def test_bad_target_is_a_clear_error(tmp_path):
    out = toolkit("inspect", str(tmp_path / "nope.py"))
    assert out.returncode == 1 and "no such file" in out.stderr


def test_examples_run_against_a_server(server):
    server.queue('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
                 '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>',
                 "Paris 21C, Rome 25C.")
    out = subprocess.run([sys.executable, "examples/parallel_calls.py"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "LIGHTLLM_BASE_URL": server.url, "PYTHONPATH": "examples"}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "Paris 21C, Rome 25C." and "get_weather({'city': 'Rome'})" in out.stdout
    server.queue('Checking.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>')
    out = subprocess.run([sys.executable, "examples/streaming.py"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "LIGHTLLM_BASE_URL": server.url, "PYTHONPATH": "examples"}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "[tool call 0: get_weather]" in out.stdout and '"city": "Oslo"' in out.stdout
    server.queue('<tool_call>\n{"name": "get_balance", "arguments": {}}\n</tool_call>', "You have 1234.50 EUR.")
    out = subprocess.run([sys.executable, "examples/context_injection.py"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "LIGHTLLM_BASE_URL": server.url}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "You have 1234.50 EUR."


def test_version():
    import toolkit as package

    out = toolkit("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"toolkit {package.__version__}"


def test_run_takes_sampling_options(server):
    server.queue("fine")
    out = toolkit("run", TOOLS, "hi", "--base-url", server.url, "--temperature", "0.3", "--max-tokens", "12",
                  "--max-steps", "2")
    assert out.returncode == 0, out.stderr
    parameters = server.last.body["parameters"]
    assert parameters["temperature"] == 0.3 and parameters["max_new_tokens"] == 12


def test_template_with_the_openai_route_is_an_error(server):
    out = toolkit("run", TOOLS, "hi", "--base-url", server.url, "--api", "openai", "--template", "x.jinja")
    assert out.returncode == 1 and "--template only applies to --api generate" in out.stderr
    assert server.requests == []


@pytest.mark.parametrize("example", ["context_injection.py", "parallel_calls.py", "streaming.py", "images.py",
                                     "typed_output.py", "streaming_run.py"])
def test_inspect_never_runs_an_examples_network_code(example):
    # an unreachable server: an example that called it at import would fail or hang here
    out = toolkit("inspect", str(ROOT / "examples" / example), env={"LIGHTLLM_BASE_URL": "http://127.0.0.1:9",
                                                                     "PYTHONPATH": str(ROOT / "examples")})
    assert "Traceback" not in out.stderr and "cannot reach" not in out.stderr
    if example == "images.py":
        assert out.returncode == 1 and "defines no @tool" in out.stderr
    else:
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout.split("\n}\n")[0] + "\n}")["type"] == "function"


def test_tools_of_module_level_instances_are_found(tmp_path):
    module = tmp_path / "shop.py"
    module.write_text("from toolkit import tool\n\nclass Store:\n    def __init__(self):\n        self.n = 3\n\n"
                      "    @tool\n    def stock(self, item: str) -> int:\n        '''Units in stock.'''\n"
                      "        return self.n\n\nstore = Store()\n")
    out = toolkit("inspect", str(module))
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert schema["function"]["name"] == "stock" and list(schema["function"]["parameters"]["properties"]) == ["item"]


def test_images_example_without_an_argument_prints_usage():
    out = subprocess.run([sys.executable, "examples/images.py"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("usage: python examples/images.py PICTURE") and out.stderr.count("\n") == 1


def test_typed_output_and_streaming_examples_run(server):
    env = {**os.environ, "LIGHTLLM_BASE_URL": server.url, "PYTHONPATH": "examples"}
    forecast = {"city": "Paris", "days": [{"day": "Mon", "high": 21}, {"day": "Tue", "high": "23.5"}],
                "summary": "Sunny"}
    server.queue('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
                 '<tool_call>\n' + json.dumps({"name": "final_result", "arguments": forecast}) + '\n</tool_call>')
    out = subprocess.run([sys.executable, "examples/typed_output.py"], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["Paris: Sunny", "  Mon: 21", "  Tue: 23.5"]
    server.queue('Checking.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
                 "Paris is sunny.")
    out = subprocess.run([sys.executable, "examples/streaming_run.py"], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:3] == ["Checking.", '-> get_weather({"city": "Paris"})',
                                           '<- get_weather: {"city": "Paris", "temperature": 21, "unit": "celsius", '
                                           '"conditions": "sunny"}']
    assert "Paris is sunny." in out.stdout and "[stop," in out.stdout
