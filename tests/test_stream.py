"""Streaming in both clients: chunks, accumulation, errors mid-stream, and the streamed = one-shot property."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from toolkit import APIConnectionError, APIError, tool
from toolkit.client import ChatCompletionChunk, parse_tool_calls
from toolkit.client._stream import Accumulator, NativeStreamConverter
from toolkit.testing._server import Fault, Reply

from .test_parsers import model_outputs


@tool
def get_weather(city: str) -> dict:
    """Get the weather."""
    return {"city": city}


USER = [{"role": "user", "content": "Weather in Paris?"}]
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


@pytest.fixture(params=["generate", "openai"])
def any_client(request, client, oai):
    return client if request.param == "generate" else oai


def test_stream_text_and_tool_calls(any_client, server):
    server.queue("Let me check.\n" + CALL)
    with any_client.chat.completions.create(messages=USER, tools=[get_weather], stream=True) as stream:
        chunks = list(stream)
        final = stream.get_final_completion()
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == "Let me check."
    heads = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or [] if tc.id]
    assert len(heads) == 1 and heads[0].function.name == "get_weather" and heads[0].index == 0
    pieces = [tc.function.arguments for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert len([p for p in pieces if p]) >= 2  # arguments arrive in pieces
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    if server.last.path == "/v1/chat/completions":
        assert server.last.body["stream"] is True and server.last.body["stream_options"] == {"include_usage": True}
    msg = final.choices[0].message
    assert msg.content == "Let me check." and json.loads(msg.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_native_stream_equals_the_non_streaming_answer(client, server):
    text = "<think>\nplan\n</think>\n\nSure.\n" + CALL + "\nDone."
    server.queue(text, text)
    plain = client.chat.completions.create(messages=USER, tools=[get_weather])
    streamed = client.chat.completions.create(messages=USER, tools=[get_weather], stream=True).get_final_completion()
    a, b = plain.choices[0], streamed.choices[0]
    assert (a.message.content, a.message.reasoning, a.finish_reason) == \
        (b.message.content, b.message.reasoning, b.finish_reason) == ("Sure.\nDone.", "plan", "tool_calls")
    assert [(c.function.name, c.function.arguments) for c in a.message.tool_calls] == \
        [(c.function.name, c.function.arguments) for c in b.message.tool_calls]


def test_native_stream_request_goes_to_generate_stream(client, server):
    server.queue("hello")
    assert client.chat.completions.create(messages=USER, stream=True).get_final_completion() \
        .choices[0].message.content == "hello"
    assert server.last.path == "/generate_stream"


@pytest.mark.parametrize("kind", ["stream_error", "stream_cut"])
def test_errors_mid_stream_raise_from_the_iterator(any_client, server, kind):
    server.queue(Fault(kind, text="a fairly long answer that will not arrive whole", body="prompt too long"))
    stream = any_client.chat.completions.create(messages=USER, stream=True)
    expected = APIError if kind == "stream_error" else APIConnectionError
    with pytest.raises(expected) as info:
        list(stream)
    if kind == "stream_error":
        assert "prompt too long" in str(info.value) or "busy" in str(info.value).lower()


def test_leaving_early_closes_the_connection(client, server):
    server.queue(Reply("x" * 300, delay=0.001))
    with client.chat.completions.create(messages=USER, stream=True) as stream:
        next(stream)
        next(stream)
    assert stream._response.raw.closed


@pytest.mark.parametrize("fmt", ["qwen25", "llama3", "mistral", "qwen3_coder"])
@given(data=st.data())
def test_accumulated_stream_equals_parse_tool_calls(fmt, data):
    text = data.draw(model_outputs(fmt))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=10)))
    bounds = [0, *cuts, len(text)]
    converter = NativeStreamConverter(model="m", parser=fmt, tools=None, opened_think=False)
    acc = Accumulator()
    acc.add(converter.start())
    for a, b in zip(bounds, bounds[1:]):
        for chunk in converter.token(text[a:b]):
            acc.add(chunk)
    for chunk in converter.finish("stop", None):
        acc.add(chunk)
    message = acc.completion().choices[0].message
    content, calls = parse_tool_calls(text, fmt)
    assert message.content == content
    assert [(c.function.name, c.function.arguments) for c in message.tool_calls or []] == \
        [(c.function.name, c.function.arguments) for c in calls]


def test_the_standard_json_decoder_is_used_without_orjson(monkeypatch):
    import sys

    import orjson

    import toolkit.client._stream as stream_module

    monkeypatch.setitem(sys.modules, "orjson", None)
    assert stream_module._json_loads() is stream_module.lean_loads
    monkeypatch.setitem(sys.modules, "orjson", orjson)
    assert stream_module._json_loads() is orjson.loads


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12)


@given(value=json_values, before=st.sampled_from(["", " ", "\n\t ", "\ufeff"]), after=st.sampled_from(["", " \r\n"]))
def test_lean_loads_equals_json_loads(value, before, after):
    from toolkit.client._stream import lean_loads

    payload = (before + json.dumps(value, ensure_ascii=bool(len(after) % 2)) + after).encode()
    assert lean_loads(payload) == json.loads(payload)


@pytest.mark.parametrize("payload", [b"", b" ", b"{", b'{"a": 1} x', b"[1,]", b"nul", b'"\xff"', b"\xff\xfe", b"{} {}"])
def test_lean_loads_refuses_what_json_loads_refuses(payload):
    from toolkit.client._stream import lean_loads

    with pytest.raises(ValueError):
        json.loads(payload)
    with pytest.raises(ValueError):
        lean_loads(payload)


# -- SSE framing ----------------------------------------------------------------------------------

def _reference_sse(body: bytes) -> list[bytes]:
    """SSE read the plain way: the whole body, line by line."""
    out, data = [], []
    for line in body.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            if data:
                out.append(b"\n".join(data))
                data = []
        elif line.startswith(b"data:"):
            data.append(line[6:] if line[5:6] == b" " else line[5:])
    if data:
        out.append(b"\n".join(data))
    return out


sse_line = st.one_of(
    st.builds(lambda space, text: b"data:" + (b" " if space else b"") + text.encode(), st.booleans(),
              st.text(st.sampled_from('{}":ab [DONE]\u00e9'), max_size=8)),
    st.sampled_from([b": keep-alive", b"event: message", b"id: 7", b"retry: 100"]))
sse_event = st.lists(sse_line, min_size=1, max_size=3)


@given(events=st.lists(sse_event, max_size=8), crlf=st.booleans(), extra_blank=st.booleans(), tail=st.booleans(),
       data=st.data())
def test_sse_payloads_equal_a_line_by_line_read_for_any_chunking(events, crlf, extra_blank, tail, data):
    from toolkit.client._transport import sse_batches

    end = b"\r\n" if crlf else b"\n"
    body = b"".join(end.join(lines) + end + end + (end if extra_blank else b"") for lines in events)
    if not tail and body:
        body = body[:-len(end)]  # the last event without its blank line: still delivered at the end
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=10)))
    bounds = [0, *cuts, len(body)]
    chunks = [body[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]
    assert [p for batch in sse_batches(chunks, 1 << 20) for p in batch] == _reference_sse(body)


def test_sse_line_cap_applies_to_lines_not_to_events():
    from toolkit import APIResponseValidationError
    from toolkit.client._transport import sse_batches

    many_lines = b"".join(b"data: " + b"a" * 90 + b"\n" for _ in range(5))  # 480 bytes, no line over 100
    assert list(sse_batches([many_lines, b"\n"], 100)) == [[b"\n".join([b"a" * 90] * 5)]]
    with pytest.raises(APIResponseValidationError, match="100-byte limit"):
        list(sse_batches([b"data: " + b"a" * 200], 100))
    with pytest.raises(APIResponseValidationError, match="100-byte limit"):
        list(sse_batches([b"data: x\r\n", b"data: " + b"a" * 200], 100))
