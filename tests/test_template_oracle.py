"""Rendering with the official templates is byte-identical to transformers' own renderer (the oracle),
for conversations with tools, tool calls, tool results and reasoning: toolkit shapes OpenAI-wire
messages the way each template needs, then renders."""

from __future__ import annotations

import copy
import json
import logging

import pytest

from toolkit import tool
from toolkit.client import LightLLMClient

from .conftest import SHARED

logging.getLogger("transformers").setLevel(logging.ERROR)
from transformers.utils import chat_template_utils  # noqa: E402 (after the logging setting)


@tool
def get_weather(city: str, days: int = 1) -> dict:
    """Get the weather for a city.

    Args:
        city: The city.
        days: How many days.
    """
    return {}


WIRE = [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "reasoning": "Two cities: two calls.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "call_2", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Rome", "days": 2}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 18}'},
        {"role": "tool", "tool_call_id": "call_2", "content": '{"temp_c": 25}'}]


def _official_shape(template: str) -> list:
    """The conversation as each model's own documentation writes it for its template."""
    out = copy.deepcopy(WIRE)
    for message in out:
        if message["role"] != "assistant":
            continue
        message["content"] = ""
        message["reasoning_content"] = message.pop("reasoning")
        if "DeepSeek" not in template:  # DeepSeek-V3.1 concatenates the JSON text; the others want objects
            for call in message["tool_calls"]:
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    return out


@pytest.mark.parametrize("template, variables", [
    ("DeepSeek-V3.1.jinja", {"bos_token": "<｜begin▁of▁sentence｜>"}), ("DeepSeek-V3.1.jinja",
                                                                       {"bos_token": "", "thinking": True}),
    ("Kimi-K2-Instruct.jinja", {}), ("GLM-4.6.jinja", {}), ("GLM-4.6.jinja", {"enable_thinking": False}),
    ("GLM-4.7-Flash.jinja", {}), ("GLM-4.7-Flash.jinja", {"clear_thinking": False}), ("Qwen3.jinja", {}),
    ("Qwen2.5-Instruct.jinja", {}), ("QwQ-32B.jinja", {})])
@pytest.mark.parametrize("turns", [2, 5], ids=["question", "after-tools"])
def test_byte_identical_to_transformers(template, variables, turns):
    source = (SHARED / "templates" / template).read_text(encoding="utf-8")
    client = LightLLMClient(chat_template=source, template_variables=variables)
    ours = client.render(WIRE[:turns], tools=[get_weather])
    oracle = chat_template_utils.render_jinja_template(
        conversations=[_official_shape(template)[:turns]], tools=[get_weather.schema], chat_template=source,
        add_generation_prompt=True, **variables)
    oracle = oracle[0] if isinstance(oracle, tuple) else oracle
    oracle = oracle[0] if isinstance(oracle, list) else oracle
    assert ours == oracle
