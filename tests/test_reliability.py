"""Reliability and security: a misbehaving loopback server, fuzzing, caps, thread safety.

docs/RELIABILITY.md lists every case with what the user gets and the test below that proves it.
"""

from __future__ import annotations

import ast
import json
import logging
import pathlib
import ssl
import subprocess
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
from hypothesis import given, strategies as st

from toolkit import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    InternalServerError,
    LightLLMClient,
    OpenAICompatibleClient,
    RateLimitError,
    Tool,
    run,
    run_many,
    tool,
)
from toolkit._repair import RepairError, repair_arguments
from toolkit.client import ChatTemplate, Limits, parse_tool_calls
from toolkit.testing._server import Fault, Reply

from .conftest import ROOT

USER = [{"role": "user", "content": "hi"}]
FAST = {"max_retries": 2}


@tool
def echo(text: str) -> str:
    """Echo the text."""
    return text


CALL = '<tool_call>\n{"name": "echo", "arguments": {"text": "a"}}\n</tool_call>'


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr("toolkit.client._transport.INITIAL_BACKOFF", 0.01)


def make(server, cls=LightLLMClient, **kwargs):
    return cls(base_url=server.url, **{"max_retries": 0, **kwargs})


def ask(client):
    return client.chat.completions.create(messages=USER)


# -- faults -------------------------------------------------------------------------------------

def test_reset_before_any_response_is_retried_then_typed(server):
    server.queue(Fault("reset"), "back")
    with make(server, **FAST) as c:
        assert ask(c).choices[0].message.content == "back"
    server.queue(Fault("reset"))
    with make(server) as c, pytest.raises(APIConnectionError):
        ask(c)


def test_reset_mid_body(server):
    server.queue(Fault("reset_mid_body"))
    with make(server) as c, pytest.raises(APIConnectionError, match="connection broke"):
        ask(c)


def test_reset_mid_body_is_retried_when_retries_are_allowed(server):
    server.queue(Fault("reset_mid_body"), "second try")
    with LightLLMClient(base_url=server.url, max_retries=1) as c:
        assert ask(c).choices[0].message.content == "second try"
    assert len(server.posts) == 2


def test_stall_after_headers_is_a_read_timeout(server):
    server.queue(Fault("stall", seconds=3))
    start = time.monotonic()
    with make(server, timeout=0.5) as c, pytest.raises(APITimeoutError):
        ask(c)
    assert time.monotonic() - start < 2.5


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(server, status):
    server.queue(Fault("status", status), "recovered")
    with make(server, **FAST) as c:
        assert ask(c).choices[0].message.content == "recovered"
    assert len(server.requests) == 2


def test_500_is_not_retried(server):
    server.queue(Fault("status", 500), "never")
    with make(server, **FAST) as c, pytest.raises(InternalServerError):
        ask(c)
    assert len(server.requests) == 1


def test_429_retry_after_is_honoured(server):
    server.queue(Fault("status", 429, headers={"Retry-After": "1"}), "after a second")
    start = time.monotonic()
    with make(server, **FAST) as c:
        assert ask(c).choices[0].message.content == "after a second"
    assert time.monotonic() - start >= 0.95


def test_429_every_time_is_a_rate_limit_error(server):
    server.queue(*[Fault("status", 429, headers={"Retry-After": "0"})] * 3)
    with make(server, **FAST) as c, pytest.raises(RateLimitError, match="after 3 attempts"):
        ask(c)


def test_html_error_page_from_a_proxy(server):
    server.queue(Fault("status", 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"))
    with make(server) as c, pytest.raises(InternalServerError, match="HTML error page: 502 Bad Gateway") as info:
        ask(c)
    assert info.value.status_code == 502


def test_truncated_body(server):
    server.queue(Fault("truncated"))
    with make(server, timeout=3) as c, pytest.raises(APIConnectionError):
        ask(c)


def test_ten_megabyte_response_is_read_and_a_cap_refuses_more(server):
    big = "x" * 10_000_000
    server.queue(big, big)
    with make(server) as c:
        assert len(ask(c).choices[0].message.content) == 10_000_000
    with make(server, limits=Limits(max_response_bytes=1_000_000)) as c:
        with pytest.raises(APIResponseValidationError, match="larger than the 1000000-byte limit"):
            ask(c)


def test_trickle_is_bounded_by_the_read_timeout(server):
    server.queue(Fault("trickle", seconds=0.1))
    start = time.monotonic()
    with make(server, timeout=1.0) as c, pytest.raises(APITimeoutError):
        ask(c)
    assert time.monotonic() - start < 3


def test_unknown_finish_reason_passes_through(server):
    server.queue(Reply("partial", finish_reason="abort"))
    with make(server) as c:
        result = run("x", tools=[echo], client=c)
    assert result.stop_reason == "abort" and result.output == "partial"


def test_streamed_line_length_is_capped(server):
    server.queue(Fault("long_line"))
    with make(server, cls=OpenAICompatibleClient, limits=Limits(max_line_bytes=1000)) as c:
        with pytest.raises(APIResponseValidationError, match="streamed line is longer than the 1000-byte limit"):
            list(c.chat.completions.create(messages=USER, stream=True))


@pytest.mark.parametrize("fault", [Fault("status", 500), Fault("stall", seconds=3), Fault("reset"),
                                   Fault("raw", 200, "not json")])
@pytest.mark.parametrize("cls", [LightLLMClient, OpenAICompatibleClient])
def test_run_errors_carry_the_transcript_and_can_continue(server, fault, cls):
    server.queue(CALL, fault)
    with make(server, cls=cls, timeout=0.5) as c:
        with pytest.raises((InternalServerError, APITimeoutError, APIConnectionError, APIResponseValidationError)) as info:
            run("please echo", tools=[echo], client=c)
        partial = info.value.result
        assert [m["role"] for m in partial.messages] == ["user", "assistant", "tool"]
        assert partial.tool_calls[0].result == "a"
        server.queue("done")
        finished = run(partial.messages, tools=[echo], client=c)
    assert finished.output == "done" and finished.messages[:3] == partial.messages


# -- fuzzing --------------------------------------------------------------------------------------

@given(st.text())
def test_parsers_never_raise_on_arbitrary_text(text):
    for fmt in ("qwen25", "llama3", "mistral", "qwen3_coder"):
        content, calls = parse_tool_calls(text, fmt)
        assert content is None or isinstance(content, str)


jinja_text = st.lists(st.sampled_from(["{{", "}}", "{%", "%}", "{#", "#}", " x ", "range(9)", "7*7", "endfor",
                                       "''.__class__", "raise_exception('x')", "\n", "é"]), max_size=20).map("".join)


@given(jinja_text)
def test_content_that_looks_like_jinja_is_rendered_as_text(text):
    prompt = ChatTemplate.default().render([{"role": "user", "content": text}])
    assert f"<|im_start|>user\n{text}<|im_end|>" in prompt


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                                     st.floats(allow_nan=False, allow_infinity=False)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_leaves=10)
objects = st.dictionaries(st.text(max_size=6), json_values, max_size=4)


def python_literal(value) -> str:
    return repr(value)


@given(objects, st.sampled_from(["json", "twice", "fence", "commas", "python"]))
def test_repair_recovers_exactly_what_the_model_wrote(obj, style):
    text = json.dumps(obj)
    if style == "twice":
        text = json.dumps(text)
    elif style == "fence":
        text = f"```json\n{text}\n```"
    elif style == "commas":
        text = text[:-1] + ",}" if obj else text
    elif style == "python":
        text = python_literal(obj)
    repaired, _ = repair_arguments(text)
    assert repaired == obj


@given(st.text(max_size=60))
def test_repair_either_fails_cleanly_or_returns_what_json_or_python_reads(text):
    try:
        repaired, was_repaired = repair_arguments(text)
    except RepairError:
        return
    assert isinstance(repaired, dict)
    if not text.strip():
        assert repaired == {}  # no arguments at all means none
    elif not was_repaired:
        assert repaired == json.loads(text)


# -- security -------------------------------------------------------------------------------------

def test_no_eval_or_exec_in_the_package():
    offenders = []
    for path in (ROOT / "toolkit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("name", ["__init__", "os.system", "__class__", "eval", "get_weather"])
def test_only_registered_tools_can_be_called(client, server, name):
    server.queue(json.dumps({"name": name, "arguments": {}}).join(["<tool_call>", "</tool_call>"]), "ok")
    result = run("x", tools=[echo], client=client)
    assert result.tool_calls[0].content == f"Error: there is no tool named {name!r}. Available tools: echo."


def test_oversized_tool_arguments_are_refused_in_run(client, server, monkeypatch):
    monkeypatch.setattr(Tool, "max_arguments_size", 1000)
    server.queue(json.dumps({"name": "echo", "arguments": {"text": "a" * 2000}}).join(
        ["<tool_call>", "</tool_call>"]), "ok")
    result = run("x", tools=[echo], client=client)
    assert "over the limit of 1000" in result.tool_calls[0].content and result.tool_calls[0].result is None


def test_api_key_is_absent_from_logs_at_every_level_and_from_errors(server, caplog):
    secret = "sk-top-secret-value"
    caplog.set_level(logging.DEBUG)
    server.queue(Fault("status", 503), Fault("status", 401, {"error": {"message": "bad key"}}))
    with LightLLMClient(base_url=server.url, api_key=secret, max_retries=1) as c:
        with pytest.raises(Exception) as info:
            run("x", tools=[echo], client=c)
        texts = [repr(c), repr(c._transport), str(info.value), repr(info.value), repr(info.value.result)]
    assert caplog.records
    texts += [r.getMessage() for r in caplog.records]
    assert not [t for t in texts if secret in t]


def _self_signed(tmp: pathlib.Path) -> tuple[str, str]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_tls_is_verified_by_default_and_verify_passes_through(tmp_path, _server):
    from toolkit.testing._server import _Handler

    cert, key = _self_signed(tmp_path)

    class Handler(_Handler):
        owner = _server

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{httpd.server_address[1]}"
    try:
        with LightLLMClient(base_url=url, max_retries=0) as c, pytest.raises(APIConnectionError, match="TLS"):
            ask(c)
        _server.queue("secure")
        with LightLLMClient(base_url=url, max_retries=0, verify=cert) as c:
            assert ask(c).choices[0].message.content == "secure"
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- load ---------------------------------------------------------------------------------------

def test_one_client_shared_by_16_threads(server):
    server.queue(*[lambda body: "echo:" + body["inputs"].split("marker-")[1].split("<")[0]] * 800)
    errors, mismatches = [], []
    with make(server, **FAST) as c:
        def worker(t: int) -> None:
            for i in range(50):
                marker = f"{t}-{i}"
                try:
                    got = c.chat.completions.create(messages=[{"role": "user", "content": f"marker-{marker}"}])
                except Exception as exc:  # collected: the assertion below reports them
                    errors.append(exc)
                    continue
                if got.choices[0].message.content != f"echo:{marker}":
                    mismatches.append((marker, got.choices[0].message.content))

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == [] and mismatches == []
    assert server.max_active > 1  # the requests really overlapped


def test_run_many_32_conversations_keep_their_transcripts(server):
    def script(body):
        question = body["inputs"].split("question ")[1].split("<")[0]
        if "<tool_response>" in body["inputs"]:
            return f"answer {question}"
        return json.dumps({"name": "echo", "arguments": {"text": question}}).join(["<tool_call>", "</tool_call>"])

    server.queue(*[script] * 64)
    with make(server, **FAST) as c:
        results = run_many([f"question {i}" for i in range(32)], tools=[echo], client=c, max_workers=8)
    for i, result in enumerate(results):
        assert result.output == f"answer {i}"
        assert result.tool_calls[0].result == str(i)
        assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "assistant"]
        assert result.messages[0]["content"] == f"question {i}"
