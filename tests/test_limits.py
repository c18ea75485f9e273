"""A loop that stays in bounds: timeouts, deadlines, Ctrl-C, budgets, tool-asked retries, a context that
fits, images back from tools, tools chosen per step. Time-based tests use short timeouts and assert only
that the run returned in bounded time."""

from __future__ import annotations

import _thread
import base64
import json
import threading
import time

import pytest

from toolkit import (
    Image,
    ToolRetry,
    UsageLimits,
    run,
    tool,
    trim_tool_results,
)
from toolkit.testing._server import IMAGE_PLACEHOLDER, PNG

from .conftest import call

release = threading.Event()


@tool(timeout=0.2)
def hangs() -> str:
    """Never returns in time."""
    release.wait(10)
    return "late"


@tool
def quick(n: int) -> int:
    """Returns at once."""
    return n


def _accepted(oai_client, server, messages):
    server.pending.clear()
    server.queue("carried on")
    return run(messages, client=oai_client).output == "carried on"


# -- timeouts ------------------------------------------------------------------------------------------

def test_a_hung_tool_is_answered_and_the_run_goes_on(any_client, server):
    release.clear()
    server.queue(call("hangs") + call("quick", n=1), "done")
    started = time.monotonic()
    result = run("x", tools=[hangs, quick], client=any_client)
    assert time.monotonic() - started < 3
    hung, fast = result.tool_calls
    assert hung.timed_out and hung.error == "hangs did not finish within 0.2 seconds"
    assert hung.content == "Error: hangs did not finish within 0.2 seconds" and hung.result is None
    assert fast.result == 1 and not fast.timed_out and result.output == "done"
    release.set()  # the abandoned worker finishes; its late result is discarded
    time.sleep(0.05)
    assert hung.result is None and hung.content.startswith("Error:")


def test_run_tool_timeout_and_the_tools_own_value_wins(oai, server):
    release.clear()

    @tool
    def slow() -> str:
        """Sleeps."""
        release.wait(10)
        return "late"

    server.queue(call("slow") + call("hangs"), "done")
    result = run("x", tools=[slow, hangs], client=oai, tool_timeout=0.4)
    assert [r.error for r in result.tool_calls] == ["slow did not finish within 0.4 seconds",
                                                    "hangs did not finish within 0.2 seconds"]
    release.set()
    assert _accepted(oai, server, result.messages)


# -- the deadline ----------------------------------------------------------------------------------------------

@tool
def takes_a_while(n: int) -> int:
    """Sleeps a little."""
    time.sleep(0.15)
    return n


def test_deadline_stops_starting_tools_and_asks_for_the_answer(oai, server, monkeypatch):
    server.queue(*[call("takes_a_while", n=i) for i in range(20)])
    monkeypatch.setattr(server, "next_item", _answer_when_no_tools(server.next_item))
    started = time.monotonic()
    result = run("x", tools=[takes_a_while], client=oai, deadline=0.4)
    assert time.monotonic() - started < 3
    assert result.stop_reason == "deadline" and result.output == "final words"
    assert server.posts[-1].body["tool_choice"] == "none"
    assert _accepted(oai, server, result.messages)


def _answer_when_no_tools(original):
    def next_item(body):
        if body.get("tool_choice") == "none":
            return "final words"
        return original(body)
    return next_item


def test_deadline_without_a_final_answer(oai, server):
    server.queue(*[call("takes_a_while", n=i) for i in range(20)])
    result = run("x", tools=[takes_a_while], client=oai, deadline=0.3, final_answer_on_limit=False)
    assert result.stop_reason == "deadline" and result.output is None
    assert all(p.body.get("tool_choice") != "none" for p in server.posts)


# -- Ctrl-C ---------------------------------------------------------------------------------------------------

def test_ctrl_c_returns_promptly_with_a_valid_transcript(oai, server):
    release.clear()

    @tool
    def interrupts() -> str:
        """Presses Ctrl-C."""
        time.sleep(0.1)
        _thread.interrupt_main()
        return "never seen"

    @tool
    def sleeps() -> str:
        """Runs long."""
        release.wait(10)
        return "late"

    server.queue(call("interrupts") + call("sleeps"))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt) as info:
        run("x", tools=[interrupts, sleeps], client=oai)
    assert time.monotonic() - started < 3
    release.set()
    messages = info.value.result.messages
    answers = [m for m in messages if m["role"] == "tool"]
    assert len(answers) == 2 and all("interrupted" in m["content"] for m in answers)
    assert _accepted(oai, server, messages)


# -- budgets ------------------------------------------------------------------------------------------------------

def test_max_requests_limit(any_client, server):
    server.queue(call("quick", n=1), call("quick", n=2), "final")
    result = run("x", tools=[quick], client=any_client, limits=UsageLimits(max_requests=2))
    assert result.stop_reason == "limit" and result.limit == "max_requests" and result.output == "final"
    assert result.steps == 3 and [r.result for r in result.tool_calls] == [1, 2]


def test_max_tool_calls_limit(oai, server):
    server.queue(call("quick", n=1) + call("quick", n=2) + call("quick", n=3), "final")
    result = run("x", tools=[quick], client=oai, limits=UsageLimits(max_tool_calls=2))
    assert [r.result for r in result.tool_calls] == [1, 2]
    assert "limit of 2 tool calls" in [m for m in result.messages if m["role"] == "tool"][2]["content"]
    assert result.stop_reason == "limit" and result.limit == "max_tool_calls" and result.output == "final"
    assert _accepted(oai, server, result.messages)


def test_token_limit_ends_without_another_call(any_client, server):
    server.queue(call("quick", n=1), call("quick", n=2))
    result = run("x", tools=[quick], client=any_client, limits=UsageLimits(max_total_tokens=1))
    assert result.stop_reason == "limit" and result.limit == "max_total_tokens" and result.steps == 1
    assert len(server.posts) == 1


def test_usage_limits_are_checked():
    with pytest.raises(ValueError, match="max_tool_calls must be a positive integer"):
        UsageLimits(max_tool_calls=0)


def test_max_calls_per_tool(oai, server):
    @tool(max_calls=1)
    def once(n: int) -> int:
        """Only once."""
        return n

    server.queue(call("once", n=1), call("once", n=2), "done")
    result = run("x", tools=[once], client=oai)
    assert result.tool_calls[0].result == 1
    assert "may be called at most 1 time(s)" in result.tool_calls[1].content and result.output == "done"


# -- tool-asked retries ---------------------------------------------------------------------------------------------

def test_tool_retry_within_and_past_the_budget(oai, server):
    @tool(max_retries=1)
    def book(date: str) -> str:
        """Book a date."""
        if date < "2030":
            raise ToolRetry("the date must be in the future")
        return "booked"

    server.queue(call("book", date="2020"), call("book", date="2021"), call("book", date="2031"), "ok")
    result = run("x", tools=[book], client=oai)
    first, second, third = result.tool_calls
    assert first.content == "the date must be in the future" and first.error is None
    assert "asked for a retry more than 1 time(s); stop retrying" in second.content
    assert second.error == "ToolRetry: the date must be in the future"
    assert third.result == "booked"


# -- a context that fits ------------------------------------------------------------------------------------------------

@tool
def read_page(n: int) -> str:
    """Read a long page."""
    return f"page {n} " + "lorem ipsum " * 400


def test_history_is_trimmed_to_fit_and_the_transcript_is_kept(any_client, server):
    server.max_model_len = 2000  # tokens of 4 characters: ~8,000 characters
    server.queue(*[call("read_page", n=i) for i in range(4)], "summary")
    result = run("summarise", tools=[read_page], client=any_client, max_tokens=100)
    assert result.output == "summary"
    assert sum("lorem ipsum" in json.dumps(m) for m in result.messages if m["role"] == "tool") == 4  # all kept
    last = json.dumps(server.posts[-1].body)
    assert "[removed to fit the context window:" in last and "page 3 lorem" in last


def test_prompt_too_long_from_the_server_trims_further_once(oai, server):
    server.queue(*[call("read_page", n=i) for i in range(3)], "summary")
    result = run("summarise", tools=[read_page], client=oai, context_window=1_000_000)  # a wrong window
    assert result.output == "summary"
    server.reset()
    server.max_model_len = 3000
    server.queue(*[call("read_page", n=i) for i in range(3)], "summary")
    result = run("summarise", tools=[read_page], client=oai, context_window=1_000_000)
    statuses = [p.body for p in server.posts]
    assert result.output == "summary" and len(statuses) == 5  # 4 steps + one retry after the 400


def test_trim_tool_results_keeps_calls_paired():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "a"}]},
                {"role": "tool", "tool_call_id": "a", "content": "x" * 50},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "b"}]},
                {"role": "tool", "tool_call_id": "b", "content": "y" * 50}]
    once = trim_tool_results(messages)
    assert once[3]["content"] == "[removed to fit the context window: 50 characters]"
    assert once[5]["content"] == "y" * 50 and len(once) == len(messages)  # the current step is never touched
    assert trim_tool_results(once) is once


def test_context_window_is_read_once_from_the_server(client, server):
    server.max_model_len = 12345
    assert client.context_window() == 12345
    server.max_model_len = 1
    assert client.context_window() == 12345
    assert sum(r.path == "/v1/models" for r in server.requests) == 1


def test_count_tokens_uses_the_servers_tokenizer(client, server):
    messages = [{"role": "user", "content": "hello there"}]
    prompt = client.render(messages, tools=[quick])
    assert client.count_tokens(messages, tools=[quick]) == len(prompt) // 4
    assert server.last.body == {"text": prompt, "parameters": {"add_special_tokens": False}}


# -- images back from tools -------------------------------------------------------------------------------------------------

@tool
def chart() -> list:
    """Draw a chart."""
    return ["Here is the chart:", Image(data=PNG, mime="image/png")]


def test_images_from_tools_on_v1(oai, server):
    server.queue(call("chart"), "nice chart")
    result = run("x", tools=[chart], client=oai)
    sent = [m for m in server.posts[-1].body["messages"] if m["role"] == "tool"][0]["content"]
    assert sent == [{"type": "text", "text": "Here is the chart:"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()}}]
    assert result.tool_calls[0].content == "Here is the chart:\n[image 1]"


def test_images_from_tools_on_generate(client, server):
    server.queue(call("chart"), "nice chart")
    run("x", tools=[chart], client=client)
    body = server.posts[-1].body
    assert body["multimodal_params"]["images"] == [{"type": "base64", "data": base64.b64encode(PNG).decode()}]
    assert f"<tool_response>\nHere is the chart:{IMAGE_PLACEHOLDER}\n</tool_response>" in body["inputs"]


def test_image_size_is_capped(oai, server, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(PNG * 100)

    @tool
    def photo() -> Image:
        """A photo."""
        return Image(path=big)

    server.queue(call("photo"), "ok")
    result = run("x", tools=[photo], client=oai, max_image_bytes=1000)
    assert "over the 1000-byte limit" in result.tool_calls[0].content


# -- tools chosen per step ------------------------------------------------------------------------------------------------------

def test_prepare_tools_shows_a_subset_and_refuses_the_rest(oai, server):
    seen = []

    def prepare(ctx, tools):
        seen.append((ctx.step, [t.name for t in tools]))
        if ctx.step == 1:
            return [t.replace(description="Only this one now.") for t in tools if t.name == "quick"]
        return tools

    server.queue(call("read_page", n=1), call("read_page", n=2), "done")
    result = run("x", tools=[quick, read_page], client=oai, prepare_tools=prepare)
    first_tools = server.posts[0].body["tools"]
    assert [(t["function"]["name"], t["function"]["description"]) for t in first_tools] == [
        ("quick", "Only this one now.")]
    assert result.tool_calls[0].content.startswith("Error: there is no tool named 'read_page'. Available tools: quick")
    assert result.tool_calls[1].result.startswith("page 2")
    assert seen == [(1, ["quick", "read_page"]), (2, ["quick", "read_page"]), (3, ["quick", "read_page"])]
