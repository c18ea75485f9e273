"""DeepSeek, Kimi, GLM and reasoning: official templates, auto-configuration, run() end to end."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from toolkit import LightLLMClient, OpenAICompatibleClient, run, tool
from toolkit.client import ChatTemplate
from toolkit.client._reasoning import ReasoningSplitter, split_reasoning
from toolkit.testing import Fault

from .conftest import SHARED

TEMPLATES = SHARED / "templates"


@tool
def get_weather(city: str, days: int = 1) -> dict:
    """Get the weather for a city."""
    return {"temp_c": 18, "city": city, "days": days}


HISTORY = [{"role": "user", "content": "Weather in Paris?"},
           {"role": "assistant", "content": None, "tool_calls": [
               {"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris", "days": 2}'}}]},
           {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 18}'}]


# -- auto-configuration and the shapes each template needs ---------------------------------------------------

@pytest.mark.parametrize("template, parser, arguments", [
    ("DeepSeek-V3.1.jinja", "deepseekv31", "string"), ("Kimi-K2-Instruct.jinja", "kimi_k2", "object"),
    ("GLM-4.6.jinja", "glm45", "object"), ("GLM-4.7-Flash.jinja", "glm47", "object"),
    ("Qwen3.jinja", "qwen25", "object"), ("Qwen2.5-Instruct.jinja", "qwen25", "object")])
def test_the_format_is_read_from_the_template(template, parser, arguments):
    client = LightLLMClient(chat_template=TEMPLATES / template)
    assert client.tool_parser == parser and client.arguments_as_text == (arguments == "string")
    assert client.config["chosen"]["tool_parser"].startswith("from the template: the template writes")
    assert LightLLMClient(chat_template=TEMPLATES / template, tool_parser="llama3").tool_parser == "llama3"


@pytest.mark.parametrize("template, markup", [
    ("DeepSeek-V3.1.jinja", "<｜Assistant｜></think><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>"
                            '{"city": "Paris", "days": 2}<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>'),
    ("Kimi-K2-Instruct.jinja", "<|im_assistant|>assistant<|im_middle|><|tool_calls_section_begin|><|tool_call_begin|>"
                               'functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris", "days": 2}'
                               "<|tool_call_end|><|tool_calls_section_end|><|im_end|>"),
    ("GLM-4.6.jinja", "<|assistant|>\n<think></think>\n<tool_call>get_weather\n<arg_key>city</arg_key>\n"
                      "<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>"),
    ("GLM-4.7-Flash.jinja", "<|assistant|></think><tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris"
                            "</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call>"),
])
def test_history_is_rendered_the_way_each_template_expects(template, markup):
    variables = {"bos_token": "<｜begin▁of▁sentence｜>"} if "DeepSeek" in template else {}
    client = LightLLMClient(chat_template=ChatTemplate.load(TEMPLATES / template), template_variables=variables)
    prompt = client.render(HISTORY, tools=[get_weather])
    assert markup in prompt  # the markup SOURCES.md records for the official rendering
    assert "None" not in prompt.replace("NoneType", "")  # content: null is sent as ""
    assert '\\"city\\"' not in prompt  # arguments never encoded twice


def test_reasoning_reaches_glm_as_reasoning_content():
    client = LightLLMClient(chat_template=TEMPLATES / "GLM-4.7-Flash.jinja")
    messages = [HISTORY[0], {**HISTORY[1], "reasoning": "Call the tool."}, HISTORY[2]]
    assert "<think>Call the tool.</think>" in client.render(messages, tools=[get_weather])


def test_thinking_toggles_go_through_chat_template_kwargs(server):
    with LightLLMClient(base_url=server.url, chat_template=TEMPLATES / "GLM-4.7-Flash.jinja") as client:
        client.chat.completions.create(messages=HISTORY[:1], chat_template_kwargs={"enable_thinking": False})
        assert server.last.body["inputs"].endswith("<|assistant|></think>")
    with LightLLMClient(base_url=server.url, chat_template=TEMPLATES / "DeepSeek-V3.1.jinja",
                        template_variables={"bos_token": ""}) as client:
        client.chat.completions.create(messages=HISTORY[:1], chat_template_kwargs={"thinking": True})
        assert server.last.body["inputs"].endswith("<｜Assistant｜><think>")
    with OpenAICompatibleClient(base_url=server.url) as oai:
        oai.chat.completions.create(messages=HISTORY[:1], chat_template_kwargs={"enable_thinking": False})
        assert server.last.body["chat_template_kwargs"] == {"enable_thinking": False}


# -- run() end to end with each model's format over real HTTP ------------------------------------------------

CALLS = {
    "DeepSeek-V3.1.jinja": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}"
                           "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "Kimi-K2-Instruct.jinja": "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
                              "<|tool_call_argument_begin|>{\"city\": \"Paris\"}<|tool_call_end|>"
                              "<|tool_calls_section_end|>",
    "GLM-4.7-Flash.jinja": "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>",
}


@pytest.mark.parametrize("template", sorted(CALLS))
@pytest.mark.parametrize("stream", [False, True], ids=["oneshot", "stream"])
def test_run_end_to_end_on_generate(server, template, stream):
    server.queue(CALLS[template], "It is 18C in Paris.")
    variables = {"bos_token": ""} if "DeepSeek" in template else {}
    with LightLLMClient(base_url=server.url, chat_template=TEMPLATES / template, template_variables=variables) as c:
        result = run("Weather in Paris?", tools=[get_weather], client=c, stream=stream)
    assert result.output == "It is 18C in Paris." and result.tool_calls[0].arguments == {"city": "Paris"}
    second = server.posts[-1].body["inputs"]
    assert '"temp_c": 18' in second  # the result rendered back with the official template
    if "Kimi" in template:
        assert result.tool_calls[0].id == "functions.get_weather:0"  # the model's own id is kept
        assert "## Return of functions.get_weather:0" in second


@pytest.mark.parametrize("parser", ["deepseekv31", "kimi_k2", "glm47"])
def test_v1_route_reparses_markup_left_in_content(server, parser):
    template = {"deepseekv31": "DeepSeek-V3.1.jinja", "kimi_k2": "Kimi-K2-Instruct.jinja",
                "glm47": "GLM-4.7-Flash.jinja"}[parser]
    server.queue(CALLS[template], "done")  # this server parses only qwen25: the markup stays in content
    with OpenAICompatibleClient(base_url=server.url, tool_parser=parser) as oai:
        result = run("x", tools=[get_weather], client=oai)
    assert result.tool_calls[0].result["city"] == "Paris" and result.output == "done"


def test_broken_server_streams_are_still_read_or_reported(oai, server):
    def chunk(delta, finish=None):
        return "data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

    def head(index, name):
        return {"tool_calls": [{"index": index, "id": f"c{index}", "type": "function",
                                "function": {"name": name, "arguments": ""}}]}

    def args(index, text):
        return {"tool_calls": [{"index": index, "function": {"arguments": text}}]}

    # GLM-4.7 on LightLLM: the arguments twice; DeepSeek-V3.2: two parameters glued into invalid JSON
    body = "".join([chunk(head(0, "get_weather")), chunk(args(0, '{"city": "Paris"}')),
                    chunk(args(0, '{"city": "Paris"}')), chunk(head(1, "get_weather")),
                    chunk(args(1, '{"city": "Rome"} "days": 2}')), chunk({}, "tool_calls"), "data: [DONE]\n\n"])
    server.queue(Fault("raw", status=200, body=body, headers={"Content-Type": "text/event-stream"}), "done")
    result = run("x", tools=[get_weather], client=oai, stream=True)
    fixed, broken = result.tool_calls
    assert fixed.arguments == {"city": "Paris"} and fixed.error is None
    assert broken.raw_arguments == '{"city": "Rome"} "days": 2}' and "not valid JSON" in broken.content


# -- reasoning ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, fmt, finish, expected", [
    ("<think>plan</think>\nanswer", "think", "stop", ("plan", "answer")),
    ("◁think▷plan◁/think▷answer", "kimi", "stop", ("plan", "answer")),
    ("<think>plan</think>answer", "none", "stop", (None, "<think>plan</think>answer")),
    ("<think>step one\n\nstep two\n\nThe answer is 4.", "think", "stop", ("step one\n\nstep two", "The answer is 4.")),
    ("<think>step one\n\nstep two cut", "think", "length", ("step one\n\nstep two cut", "")),
    ("<think>no blank line at all", "think", "stop", (None, "no blank line at all")),
])
def test_reasoning_rules(text, fmt, finish, expected):
    assert split_reasoning(text, False, fmt, finish) == expected


@given(st.text(st.sampled_from("ab\n<>/think◁▷"), max_size=40), st.lists(st.integers(0, 40), max_size=8),
       st.sampled_from(["think", "kimi"]), st.sampled_from(["stop", "length"]), st.booleans())
def test_streamed_reasoning_equals_one_shot(text, cuts, fmt, finish, opened):
    text = ("<think>" if fmt == "think" else "◁think▷") + text
    bounds = [0, *sorted(min(c, len(text)) for c in cuts), len(text)]
    splitter = ReasoningSplitter(opened, fmt)
    reasoning, answer = "", ""
    for a, b in zip(bounds, bounds[1:]):
        r, t = splitter.feed(text[a:b])
        reasoning, answer = reasoning + r, answer + t
    r, t = splitter.finish(finish)
    assert ((reasoning + r).strip() or None, answer + t) == split_reasoning(text, opened, fmt, finish)


CALL_IN_THOUGHT = '<think>I will call it.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n' \
                  '</tool_call>\n</think>\nLet me check.'


@pytest.mark.parametrize("stream", [False, True], ids=["oneshot", "stream"])
def test_calls_in_reasoning_are_ignored_or_recovered(server, stream):
    with LightLLMClient(base_url=server.url) as plain, \
            LightLLMClient(base_url=server.url, calls_in_reasoning="recover") as recovering:
        server.queue(CALL_IN_THOUGHT)
        ignored = run("x", tools=[get_weather], client=plain, stream=stream)
        assert ignored.tool_calls == [] and ignored.output == "Let me check."
        server.queue(CALL_IN_THOUGHT, "Cold in Oslo.")
        recovered = run("x", tools=[get_weather], client=recovering, stream=stream)
    assert [r.arguments for r in recovered.tool_calls] == [{"city": "Oslo"}] and recovered.output == "Cold in Oslo."


def test_calls_in_server_reasoning_on_v1(server):
    body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": "Let me check.",
            "reasoning": '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'}}]}
    server.queue(Fault("raw", status=200, body=body, headers={"Content-Type": "application/json"}), "Cold.")
    with OpenAICompatibleClient(base_url=server.url, calls_in_reasoning="recover") as oai:
        result = run("x", tools=[get_weather], client=oai)
    assert result.tool_calls[0].arguments == {"city": "Oslo"} and result.output == "Cold."


def test_v1_content_that_opens_think_is_split(server):
    body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "<think>hm</think>Hi"}}]}
    server.queue(Fault("raw", status=200, body=body, headers={"Content-Type": "application/json"}))
    with OpenAICompatibleClient(base_url=server.url) as oai:
        message = oai.chat.completions.create(messages=[{"role": "user", "content": "x"}]).choices[0].message
    assert (message.reasoning, message.content) == ("hm", "Hi")


def test_options_are_checked():
    with pytest.raises(ValueError, match="reasoning_format"):
        LightLLMClient(reasoning_format="deep")
    with pytest.raises(ValueError, match="calls_in_reasoning"):
        OpenAICompatibleClient(calls_in_reasoning="maybe")


def test_one_malformed_deepseek_call_does_not_lose_the_others():
    from toolkit.client import parse_tool_calls

    text = ("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get weather<｜tool▁sep｜>{}<｜tool▁call▁end｜>"
            '<｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Oslo"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>')
    content, calls = parse_tool_calls(text, "deepseekv31")
    assert [(c.function.name, c.function.arguments) for c in calls] == [("get_weather", '{"city": "Oslo"}')]
    assert content.endswith("get weather<｜tool▁sep｜>{}<｜tool▁call▁end｜>")  # kept as written


def test_glm_values_follow_the_schema():
    from toolkit.client import parse_tool_calls

    tools = [{"type": "function", "function": {"name": "f", "parameters": {"properties": {
        "code": {"type": "string"}, "n": {"type": "integer"}, "on": {"type": "boolean"}, "tags": {"type": "array"}}}}}]
    text = ("<tool_call>f<arg_key>code</arg_key><arg_value>007</arg_value><arg_key>n</arg_key><arg_value>7</arg_value>"
            '<arg_key>on</arg_key><arg_value>true</arg_value><arg_key>tags</arg_key><arg_value>["a"]</arg_value>'
            "</tool_call>")
    assert json.loads(parse_tool_calls(text, "glm47", tools=tools)[1][0].function.arguments) == {
        "code": "007", "n": 7, "on": True, "tags": ["a"]}
