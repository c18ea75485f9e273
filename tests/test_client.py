"""Both clients over real HTTP against the LightLLM-protocol test server."""

from __future__ import annotations

import json
import logging

import pytest

from toolkit import (
    APIConnectionError,
    APIResponseValidationError,
    BadRequestError,
    InternalServerError,
    LightLLMClient,
    NotFoundError,
    OpenAICompatibleClient,
    RateLimitError,
    tool,
)
from toolkit.client import ChatTemplate
from toolkit.testing._server import Fault, Reply

from .conftest import SHARED


@tool
def get_weather(city: str, unit: str = "celsius") -> dict:
    """Get the current weather for a city.

    Args:
        city: City name.
        unit: Temperature unit.
    """
    return {"city": city, "temperature": 21}


CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
USER = [{"role": "user", "content": "Weather in Paris?"}]


def test_generate_sends_the_rendered_prompt_and_mapped_parameters(client, server):
    server.queue("It is sunny.")
    resp = client.chat.completions.create(model="qwen", messages=USER, tools=[get_weather], temperature=0.7,
                                          top_p=0.9, top_k=50, max_tokens=512, stop=["\n\n"], presence_penalty=0.0,
                                          frequency_penalty=0.0, repetition_penalty=1.0, seed=7, n=1)
    sent = server.last.body
    expected_prompt = ChatTemplate.load(SHARED / "templates" / "Qwen2.5-Instruct.jinja").render(
        USER, tools=[get_weather.schema])
    assert server.last.path == "/generate"
    assert sent["inputs"] == expected_prompt
    assert sent["parameters"] == {"max_new_tokens": 512, "stop_sequences": ["\n\n"], "n": 1, "best_of": 1,
                                  "do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 50,
                                  "presence_penalty": 0.0, "frequency_penalty": 0.0, "repetition_penalty": 1.0,
                                  "seed": 7}
    assert resp.choices[0].message.content == "It is sunny."
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "qwen"


def test_parameters_not_given_are_not_sent(client, server):
    client.chat.completions.create(messages=USER)
    assert server.last.body["parameters"] == {}


def test_temperature_zero_means_greedy(client, server):
    client.chat.completions.create(messages=USER, temperature=0)
    assert server.last.body["parameters"] == {"do_sample": False}


def test_tool_calls_are_parsed_into_the_openai_shape(client, server):
    server.queue("Let me check.\n" + CALL)
    resp = client.chat.completions.create(messages=USER, tools=[get_weather])
    msg = resp.choices[0].message
    assert msg.content == "Let me check."
    call = msg.tool_calls[0]
    assert call.id.startswith("call_") and len(call.id) == 29 and call.type == "function"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert msg["tool_calls"][0]["function"]["name"] == "get_weather"
    assert resp.choices[0].finish_reason == "tool_calls"
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens > 0
    wire = resp.to_dict()
    assert wire["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == call.function.arguments
    assert msg.to_dict() == {"role": "assistant", "content": "Let me check.", "tool_calls": [
        {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}


def test_history_arguments_are_rendered_as_objects_not_twice_encoded(client, server):
    server.queue(CALL, "Sunny.")
    first = client.chat.completions.create(messages=USER, tools=[get_weather])
    history = USER + [first.choices[0].message.to_dict(),
                      {"role": "tool", "tool_call_id": first.choices[0].message.tool_calls[0].id, "content": "21C"}]
    client.chat.completions.create(messages=history, tools=[get_weather])
    prompt = server.last.body["inputs"]
    assert '{"name": "get_weather", "arguments": {"city": "Paris"}}' in prompt
    assert "<tool_response>\n21C\n</tool_response>" in prompt


def test_n_greater_than_one_reads_list_shapes(client, server):
    server.queue(Reply(["one", CALL], finish_reason=["length", "stop"]))
    resp = client.chat.completions.create(messages=USER, tools=[get_weather], n=2)
    assert server.last.body["parameters"]["best_of"] == 2
    assert [c.finish_reason for c in resp.choices] == ["length", "tool_calls"]
    assert resp.choices[0].message.content == "one" and resp.choices[1].message.tool_calls[0].function.name == "get_weather"


def test_tool_choice_none_hides_tools_and_skips_parsing(client, server):
    server.queue(CALL)
    resp = client.chat.completions.create(messages=USER, tools=[get_weather], tool_choice="none")
    assert "# Tools" not in server.last.body["inputs"]
    assert resp.choices[0].message.tool_calls is None and resp.choices[0].message.content == CALL


def test_reasoning_is_split_from_the_answer(server):
    server.queue("<think>\nThe user wants weather.\n</think>\n\n" + CALL)
    with LightLLMClient(base_url=server.url) as c:
        msg = c.chat.completions.create(messages=USER, tools=[get_weather]).choices[0].message
    assert msg.reasoning == "The user wants weather." and msg.tool_calls[0].function.name == "get_weather"


@pytest.mark.parametrize("kwargs, message", [
    ({"stop": [str(i) for i in range(11)]}, "at most 10 stop sequences"),
    ({"temperature": None}, "omit temperature"),
    ({"max_tokens": 16.0}, "must be an integer"),
    ({"top_p": 1.5}, r"top_p must be in \(0, 1\]"),
    ({"n": 9}, "n must be in 1 ... 8"),
    ({"top_k": 0}, "top_k must be -1"),
])
def test_invalid_parameters_raise_value_error_before_sending(client, server, kwargs, message):
    with pytest.raises(ValueError, match=message):
        client.chat.completions.create(messages=USER, **kwargs)
    assert server.requests == []


def test_extra_parameters_pass_through(client, server):
    client.chat.completions.create(messages=USER, ignore_eos=True, extra_body={"parameters": {"min_new_tokens": 2}})
    assert server.last.body["parameters"] == {"ignore_eos": True, "min_new_tokens": 2}


@pytest.mark.parametrize("fault, kind, message", [
    (Fault("status", 400, {"error": {"message": "temperature must > 0.0, got -1.0", "type": "BadRequestError",
                                     "param": None, "code": 400}}), BadRequestError, "temperature must > 0.0"),
    (Fault("status", 417, {"error": {"message": "'inputs'", "type": "BadRequestError", "param": None, "code": 417}}),
     BadRequestError, "'inputs'"),
    (Fault("status", 422, {"detail": [{"type": "missing", "loc": ["body", "messages"], "msg": "Field required"}]}),
     BadRequestError, "messages: Field required"),
    (Fault("status", 500, "Internal Server Error"), InternalServerError, "Internal Server Error"),
    (Fault("status", 404, {"detail": "Not Found"}), NotFoundError, "Not Found"),
    (Fault("status", 429, {"type": "error", "error": {"type": "rate_limit_error", "message": "busy"}}),
     RateLimitError, "busy"),
])
def test_error_shapes_become_typed_errors(client, server, fault, kind, message):
    server.queue(fault)
    with pytest.raises(kind, match=message) as info:
        client.chat.completions.create(messages=USER)
    assert info.value.status_code == fault.status and info.value.body is not None


def test_retries_429_with_retry_after_and_not_500(server):
    server.queue(Fault("status", 429, headers={"Retry-After": "0"}), "fine")
    with LightLLMClient(base_url=server.url, max_retries=2) as c:
        assert c.chat.completions.create(messages=USER).choices[0].message.content == "fine"
    assert len(server.requests) == 2
    server.reset()
    server.queue(Fault("status", 500), "fine")
    with LightLLMClient(base_url=server.url, max_retries=2) as c:
        with pytest.raises(InternalServerError):
            c.chat.completions.create(messages=USER)
    assert len(server.requests) == 1


def test_retries_exhausted_says_how_many_attempts(server, monkeypatch):
    monkeypatch.setattr("toolkit.client._transport.INITIAL_BACKOFF", 0.01)
    server.queue(*[Fault("status", 503) for _ in range(3)])
    with LightLLMClient(base_url=server.url, max_retries=2) as c:
        with pytest.raises(InternalServerError, match="after 3 attempts") as info:
            c.chat.completions.create(messages=USER)
    assert info.value.status_code == 503 and len(server.requests) == 3


def test_connection_refused_is_typed():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with LightLLMClient(base_url=f"http://127.0.0.1:{port}", max_retries=0) as c:
        with pytest.raises(APIConnectionError, match="cannot reach the server"):
            c.chat.completions.create(messages=USER)
        assert c.health() is False


def test_invalid_json_body_is_a_validation_error(client, server):
    server.queue(Fault("raw", 200, "<html>oops</html>"))
    with pytest.raises(APIResponseValidationError, match="not JSON"):
        client.chat.completions.create(messages=USER)


def test_health_and_models(client, server):
    assert client.health() is True
    server.healthy = False
    assert client.health() is False
    assert client.models() == ["test-model"]


def test_api_key_never_shows(server, caplog):
    secret = "sk-very-secret-123"
    caplog.set_level(logging.DEBUG)
    server.queue(Fault("status", 503), Fault("status", 400))
    with LightLLMClient(base_url=server.url, api_key=secret, max_retries=1) as c:
        assert secret not in repr(c)
        with pytest.raises(BadRequestError) as info:
            c.chat.completions.create(messages=USER)
    assert server.last.headers["Authorization"] == f"Bearer {secret}"  # sent, for proxies
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert caplog.records  # the retry was logged


def test_environment_configures_the_client(server, monkeypatch):
    monkeypatch.setenv("LIGHTLLM_BASE_URL", server.url)
    monkeypatch.setenv("LIGHTLLM_API_KEY", "env-key")
    with LightLLMClient() as c:
        c.chat.completions.create(messages=USER)
    assert server.last.headers["Authorization"] == "Bearer env-key"


def test_custom_template_and_variables(server):
    template = SHARED / "templates" / "Hermes-3-Llama-3.1-8B-tool_use.jinja"
    with LightLLMClient(base_url=server.url, chat_template=template,
                        template_variables={"bos_token": "<|begin_of_text|>"}) as c:
        c.chat.completions.create(messages=USER, tools=[get_weather])
    assert server.last.body["inputs"].startswith("<|begin_of_text|>")


# -- the OpenAI-compatible route -----------------------------------------------------------------

def test_openai_route_sends_tools_and_normalises_quirks(oai, server):
    server.queue("Checking.\n" + CALL)
    resp = oai.chat.completions.create(model="qwen", messages=USER, tools=[get_weather], tool_choice="auto",
                                       temperature=0.5, max_tokens=64)
    sent = server.last.body
    assert server.last.path == "/v1/chat/completions"
    assert sent == {"model": "qwen", "messages": USER, "tools": [get_weather.schema], "tool_choice": "auto",
                    "temperature": 0.5, "max_tokens": 64}
    msg = resp.choices[0].message
    assert msg.content == "Checking." and msg.tool_calls[0].function.name == "get_weather"
    assert "index" not in msg.tool_calls[0].to_dict() and msg.reasoning is None
    assert resp.choices[0].finish_reason == "tool_calls"
    assert resp.usage.prompt_tokens == 12


def test_openai_route_reparses_markup_left_in_content(oai, server):
    # LightLLM answers tool_calls: [] and leaves the raw text when its parser fails; ours may not
    server.queue('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome",}}\n</tool_call>')
    msg = oai.chat.completions.create(messages=USER, tools=[get_weather]).choices[0].message
    assert msg.tool_calls[0].function.name == "get_weather"
    assert msg.tool_calls[0].function.arguments == '{"city": "Rome",}'  # kept for run() to repair


def test_openai_route_decodes_double_encoded_arguments(oai):
    data = {"id": "7", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": "", "reasoning": "hmm",
        "tool_calls": [{"id": "3", "index": -1, "type": "function",
                        "function": {"name": "f", "arguments": json.dumps(json.dumps({"a": 1}))}}]}}]}
    msg = oai.normalize(data, None).choices[0].message
    assert msg.tool_calls[0].function.arguments == '{"a": 1}' and msg.tool_calls[0].id.startswith("call_")
    assert msg.content is None and msg.reasoning == "hmm"


def test_openai_route_sends_history_arguments_as_strings(oai, server):
    history = USER + [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "21C"}]
    oai.chat.completions.create(messages=history, tools=[get_weather])
    assert server.last.body["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'


def test_openai_route_plain_text_500_from_null_values_is_prevented(oai, server):
    with pytest.raises(ValueError, match="omit top_p"):
        oai.chat.completions.create(messages=USER, top_p=None)
    assert server.requests == []


def test_clients_are_context_managers_and_reprs_hide_keys():
    c = OpenAICompatibleClient(base_url="http://127.0.0.1:9", api_key="k-123")
    with c:
        assert "k-123" not in repr(c) and repr(c) == "OpenAICompatibleClient(base_url='http://127.0.0.1:9', api_key=***)"


# -- the direct send (toolkit's own session hands requests straight to its adapter) ---------------

def test_the_direct_send_sends_what_a_session_would(server):
    import requests

    from toolkit.client._transport import json_bytes

    with LightLLMClient(base_url=server.url, api_key="sk-test", headers={"X-Team": "a"}) as c:
        c.chat.completions.create(messages=USER)
    ours = server.last.headers
    session = requests.Session()
    session.trust_env = False
    session.post(server.url + "/generate", data=b"{}", headers={"Content-Type": "application/json",
                                                                "Accept": "application/json"}).close()
    theirs = server.last.headers
    assert ours["Authorization"] == "Bearer sk-test" and ours["X-Team"] == "a"
    assert ours["Content-Length"] == str(len(json_bytes(server.requests[0].body)))
    for key in ("Accept-Encoding", "Connection", "Content-Type", "Accept"):
        assert ours[key] == theirs[key], key


def test_a_cookie_the_server_sets_is_sent_back(server):
    """A proxy's affinity cookie: kept by the client's session and sent with later requests."""
    server.queue(Fault("status", 200, {"generated_text": ["one"], "finish_reason": "stop"},
                       headers={"Set-Cookie": "affinity=gpu2; Path=/"}), "two", "three")
    with LightLLMClient(base_url=server.url) as c:
        c.chat.completions.create(messages=USER)
        assert "Cookie" not in server.last.headers
        assert c.chat.completions.create(messages=USER).choices[0].message.content == "two"
        assert server.last.headers["Cookie"] == "affinity=gpu2"
        c.chat.completions.create(messages=USER)
        assert server.last.headers["Cookie"] == "affinity=gpu2"


def test_a_redirect_is_followed_with_the_method_and_body(server):
    server.queue(Fault("status", 307, b"", headers={"Location": server.url + "/generate"}), "after the redirect")
    with LightLLMClient(base_url=server.url) as c:
        answer = c.chat.completions.create(messages=USER)
    assert answer.choices[0].message.content == "after the redirect"
    assert [r.method for r in server.requests] == ["POST", "POST"]
    assert server.requests[0].body == server.requests[1].body
