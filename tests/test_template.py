"""Chat templates: the official files render exactly what transformers renders; ours matches Qwen2.5."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from toolkit import TemplateError
from toolkit.client import ChatTemplate

from .conftest import SHARED

TEMPLATES = SHARED / "templates"
CASES = json.loads((SHARED / "conformance" / "template_cases.json").read_text())


def render_case(template: ChatTemplate, case: dict) -> str:
    return template.render(case["messages"], tools=case["tools"], add_generation_prompt=case["add_generation_prompt"],
                           **case["template_kwargs"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_official_templates_render_expected(case):
    template = ChatTemplate.load(TEMPLATES / case["template"])
    if case["expected"] is None:
        with pytest.raises(TemplateError) as info:
            render_case(template, case)
        kind, _, message = case["expected_error"].partition(": ")
        assert type(info.value.__cause__).__name__ == kind and message in str(info.value)
    else:
        assert render_case(template, case) == case["expected"]


QWEN25 = [c for c in CASES if c["template"] == "Qwen2.5-Instruct.jinja"]


@pytest.mark.parametrize("case", QWEN25, ids=[c["id"] for c in QWEN25])
def test_default_template_is_byte_identical_to_qwen25(case):
    assert render_case(ChatTemplate.default(), case) == case["expected"]


messages = st.lists(st.fixed_dictionaries({
    "role": st.sampled_from(["user", "assistant", "tool", "system"]),
    "content": st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)}), min_size=1, max_size=6)


@given(messages, st.booleans(), st.booleans())
def test_default_template_matches_qwen25_on_random_conversations(msgs, with_tools, generation_prompt):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}] if with_tools else None
    official = ChatTemplate.load(TEMPLATES / "Qwen2.5-Instruct.jinja")
    assert ChatTemplate.default().render(msgs, tools, generation_prompt) == official.render(msgs, tools, generation_prompt)


def test_content_parts_and_image_placeholders():
    msgs = [{"role": "user", "content": [{"type": "text", "text": "Compare "},
                                         {"type": "image_url", "image_url": {"url": "data:,"}},
                                         {"type": "text", "text": " and "},
                                         {"type": "image_url", "image_url": {"url": "data:,"}}]}]
    out = ChatTemplate.default().render(msgs)
    assert "<|im_start|>user\nCompare <|vision_start|><|image_pad|><|vision_end|> and " \
           "<|vision_start|><|image_pad|><|vision_end|><|im_end|>" in out


def test_load_from_config_and_model_dir(tmp_path):
    source = (TEMPLATES / "Hermes-3-Llama-3.1-8B-tool_use.jinja").read_text()
    config = {"chat_template": [{"name": "default", "template": source}], "bos_token": {"content": "<|begin_of_text|>"}}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    template = ChatTemplate.load(tmp_path)
    out = template.render([{"role": "user", "content": "hi"}], tools=[])
    assert out.startswith("<|begin_of_text|>")
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": "{{ messages[0].content }}!"}))
    assert ChatTemplate.load(tmp_path).render([{"role": "user", "content": "x"}]) == "x!"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ messages.__class__.__init__.__globals__ }}",
    "{% set x = messages.append(1) %}{{ x }}",
])
def test_sandbox_stops_malicious_templates(source):
    with pytest.raises(TemplateError, match="sandbox|unsafe|not safely|failed"):
        ChatTemplate(source).render([{"role": "user", "content": "hi"}])


def test_content_that_looks_like_jinja_is_text():
    msgs = [{"role": "user", "content": "{{ 7*7 }} {% for x in range(3) %}x{% endfor %}"}]
    assert "{{ 7*7 }} {% for x in range(3) %}x{% endfor %}" in ChatTemplate.default().render(msgs)


def test_bad_sources_are_clear_errors(tmp_path):
    with pytest.raises(TemplateError, match="does not compile"):
        ChatTemplate("{% if %}").render([])
    with pytest.raises(TemplateError, match="cannot read chat template"):
        ChatTemplate.load(tmp_path / "missing.jinja")
    with pytest.raises(TemplateError, match="holds no chat_template"):
        ChatTemplate.load(tmp_path)
    with pytest.raises(TemplateError, match="raised on purpose"):
        ChatTemplate("{{ raise_exception('raised on purpose') }}").render([])
