"""run(): scripted multi-step conversations against the test server, in both client modes."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Annotated, Literal

import pytest

from toolkit import (
    Injected,
    InternalServerError,
    LightLLMClient,
    RunContext,
    ToolExecutionError,
    iter_run,
    run,
    run_many,
    tool,
)
from toolkit.testing._server import Fault, Reply

from .conftest import call


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
    """Get the current weather for a city.

    Args:
        city: City name.
        unit: Temperature unit.
    """
    return {"city": city, "temperature": 21 if city == "Paris" else 25, "unit": unit}


@tool
def convert(value: float, to: Literal["celsius", "fahrenheit"]) -> float:
    """Convert a temperature."""
    return value * 9 / 5 + 32 if to == "fahrenheit" else (value - 32) * 5 / 9


@tool
def broken(x: int) -> int:
    """Always fails."""
    raise RuntimeError("disk on fire")


def tool_messages(result):
    return [m for m in result.messages if m["role"] == "tool"]


def test_two_step_conversation(any_client, server):
    server.queue("Let me look.\n" + call("get_weather", city="Paris") + "\n" + call("get_weather", city="Rome"),
                 "Paris is 21C and Rome is 25C.")
    result = run("What's the weather in Paris and in Rome?", tools=[get_weather, convert], client=any_client,
                 temperature=0.2)
    assert result.output == "Paris is 21C and Rome is 25C."
    assert result.stop_reason == "stop" and result.steps == 2
    assert [(r.name, r.arguments, r.result["temperature"]) for r in result.tool_calls] == [
        ("get_weather", {"city": "Paris"}, 21), ("get_weather", {"city": "Rome"}, 25)]
    roles = [m["role"] for m in result.messages]
    assert roles == ["user", "assistant", "tool", "tool", "assistant"]
    tools_sent = tool_messages(result)
    assert [m["tool_call_id"] for m in tools_sent] == [r.id for r in result.tool_calls]
    assert json.loads(tools_sent[0]["content"]) == {"city": "Paris", "temperature": 21, "unit": "celsius"}
    assert result.usage.total_tokens > 0 and result.usage.total_tokens == \
        result.usage.prompt_tokens + result.usage.completion_tokens
    # the transcript goes straight back in to continue the conversation
    server.queue("Still sunny.")
    again = run(result.messages + [{"role": "user", "content": "And now?"}], tools=[get_weather], client=any_client)
    assert again.output == "Still sunny." and again.messages[:len(result.messages)] == result.messages


def test_parallel_calls_overlap(any_client, server):
    intervals = []
    lock = threading.Lock()

    @tool
    def slow(n: int) -> int:
        """Sleep a little."""
        start = time.perf_counter()
        time.sleep(0.2)
        with lock:
            intervals.append((start, time.perf_counter()))
        return n

    server.queue(call("slow", n=1) + call("slow", n=2) + call("slow", n=3), "done")
    result = run("go", tools=[slow], client=any_client)
    assert [r.result for r in result.tool_calls] == [1, 2, 3]  # results in call order
    (a0, a1), (b0, b1), (c0, c1) = sorted(intervals)
    assert b0 < a1 and c0 < a1  # execution intervals overlap


def test_parallel_false_runs_one_at_a_time(client, server):
    intervals = []

    @tool(parallel=False)
    def serial(n: int) -> int:
        """One at a time."""
        start = time.perf_counter()
        time.sleep(0.05)
        intervals.append((start, time.perf_counter()))
        return n

    server.queue(call("serial", n=1) + call("serial", n=2), "done")
    run("go", tools=[serial], client=client)
    (a0, a1), (b0, b1) = intervals
    assert b0 >= a1


def test_bad_arguments_then_corrected_call(any_client, server):
    server.queue(call("get_weather", town="Paris", unit="kelvin"), call("get_weather", city="Paris"), "21C.")
    result = run("weather?", tools=[get_weather], client=any_client)
    first, second = result.tool_calls
    assert first.error is not None and first.result is None
    assert "city: required property is missing" in first.content
    assert "unit: expected one of \"celsius\", \"fahrenheit\"" in first.content
    assert "town: unknown property" in first.content and "Call get_weather again" in first.content
    assert second.error is None and second.result["temperature"] == 21
    assert result.output == "21C."


def test_unknown_tool_lists_valid_names(any_client, server):
    server.queue(call("os.system", cmd="rm -rf /"), "ok")
    result = run("x", tools=[get_weather, convert], client=any_client)
    assert result.tool_calls[0].content == \
        "Error: there is no tool named 'os.system'. Available tools: convert, get_weather."


def test_raising_tool_is_fed_back_or_raised(any_client, server):
    server.queue(call("broken", x=1), "sorry")
    result = run("x", tools=[broken], client=any_client)
    assert result.tool_calls[0].content == "Error: broken raised RuntimeError: disk on fire"
    assert "Traceback" not in result.tool_calls[0].content
    server.queue(call("broken", x=1))
    with pytest.raises(ToolExecutionError, match="disk on fire") as info:
        run("x", tools=[broken], client=any_client, on_tool_error="raise")
    assert info.value.result.messages[0] == {"role": "user", "content": "x"}
    assert info.value.result.messages[1]["tool_calls"][0]["function"]["name"] == "broken"


def test_max_steps_asks_for_a_final_answer(client, server):
    server.queue(call("get_weather", city="Paris"), call("get_weather", city="Rome"), "Final words.")
    result = run("x", tools=[get_weather], client=client, max_steps=2)
    assert result.stop_reason == "max_steps" and result.output == "Final words." and result.steps == 3
    last_prompt = server.last.body["inputs"]
    assert "# Tools" not in last_prompt  # tool_choice="none" on the last call


def test_repeated_call_is_refused(any_client, server):
    server.queue(*[call("get_weather", city="Paris")] * 3, "ok")
    result = run("x", tools=[get_weather], client=any_client)
    assert [r.error is None for r in result.tool_calls] == [True, True, False]
    assert "already called 2 times in a row" in result.tool_calls[2].content


def test_required_tool_choice_is_enforced_then_reset(any_client, server):
    server.queue("I refuse to call tools.", call("get_weather", city="Paris"), "21C")
    result = run("x", tools=[get_weather], client=any_client, tool_choice="required")
    assert [r.name for r in result.tool_calls] == ["get_weather"] and result.output == "21C"
    bodies = [r.body for r in server.requests if r.method == "POST"]
    if "messages" in bodies[0]:
        assert bodies[1]["messages"][-1]["content"].startswith("Reply by calling one of the tools")
        assert bodies[0]["tool_choice"] == "required" and bodies[2]["tool_choice"] == "auto"
    else:
        assert "Reply by calling one of the tools" in bodies[1]["inputs"]
    # the refused text answer is not kept in the transcript
    assert "I refuse" not in json.dumps(result.messages)


def test_forced_tool_is_reset_to_auto(oai, server):
    server.queue(call("get_weather", city="Paris"), "done")
    run("x", tools=[get_weather, convert], client=oai,
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert server.posts[0].body["tool_choice"]["function"]["name"] == "get_weather"
    assert server.posts[1].body["tool_choice"] == "auto"


@dataclasses.dataclass
class Deps:
    user: str


def test_context_injection(any_client, server):
    seen = {}

    @tool
    def whoami(ctx: RunContext[Deps], deps: Annotated[Deps, Injected], greeting: str = "hi") -> str:
        """Say who the user is."""
        seen["messages"] = len(ctx.messages)
        seen["call"] = ctx.tool_call_id
        return f"{greeting} {deps.user} / {ctx.context.user}"

    assert list(whoami.parameters["properties"]) == ["greeting"]
    server.queue(call("whoami"), "ok")
    result = run("who?", tools=[whoami], client=any_client, context=Deps("ada"))
    assert result.tool_calls[0].result == "hi ada / ada"
    assert seen["messages"] == 2 and seen["call"] == result.tool_calls[0].id


def test_approval_can_deny_or_replace(any_client, server):
    decisions = iter([False, {"city": "Rome"}])
    server.queue(call("get_weather", city="Paris"), call("get_weather", city="Paris"), "ok")
    result = run("x", tools=[get_weather], client=any_client, approve=lambda request: next(decisions))
    denied, replaced = result.tool_calls
    assert "not approved" in denied.content and denied.result is None
    assert replaced.result["city"] == "Rome"
    stored = result.messages[3]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(stored) == {"city": "Rome"}


def test_repaired_arguments_are_stored_as_valid_json(client, server):
    server.queue("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{'city': 'Paris', 'unit': 'celsius',}\"}"
                 "\n</tool_call>", "ok")
    result = run("x", tools=[get_weather], client=client)
    assert result.tool_calls[0].error is None
    assert json.loads(result.messages[1]["tool_calls"][0]["function"]["arguments"]) == \
        {"city": "Paris", "unit": "celsius"}


def test_server_failure_keeps_the_transcript(any_client, server):
    server.queue(call("get_weather", city="Paris"), Fault("status", 500))
    with pytest.raises(InternalServerError) as info:
        run("x", tools=[get_weather], client=any_client)
    partial = info.value.result
    assert partial.stop_reason == "error" and [m["role"] for m in partial.messages] == ["user", "assistant", "tool"]
    server.queue("recovered")
    assert run(partial.messages, tools=[get_weather], client=any_client).output == "recovered"


def test_length_stop_reason(client, server):
    server.queue(Reply("cut off mid", finish_reason="length"))
    result = run("x", tools=[get_weather], client=client)
    assert result.stop_reason == "length" and result.output == "cut off mid"


def test_results_are_serialised_and_capped(client, server):
    @tool
    def big() -> str:
        """A long text."""
        return "é" * 50

    @tool
    def nothing() -> None:
        """Returns None."""

    server.queue(call("big") + call("nothing"), "ok")
    result = run("x", tools=[big, nothing], client=client, max_result_chars=10)
    assert result.tool_calls[0].content == "é" * 10 + "\n...[truncated: 40 more characters]"
    assert result.tool_calls[1].content == "null"


def test_iter_run_yields_events_in_order(client, server):
    server.queue(call("get_weather", city="Paris"), "ok")
    kinds = [event.type for event in iter_run("x", tools=[get_weather], client=client)]
    assert kinds == ["model_response", "tool_call", "tool_result", "model_response", "final"]


def test_run_many_shares_one_client(server):
    server.queue(*[lambda body: call("get_weather", city="Paris") if body.get("inputs", "").count("<tool_response>") == 0
                   else "done"] * 40)
    with LightLLMClient(base_url=server.url) as shared:
        results = run_many([f"question {i}" for i in range(16)], tools=[get_weather], client=shared, max_workers=8)
    assert len(results) == 16
    for i, result in enumerate(results):
        assert result.messages[0]["content"] == f"question {i}" and result.output == "done"
        assert len(result.tool_calls) == 1


def test_tools_must_be_executable():
    with pytest.raises(ValueError, match="Tool objects or callables"):
        run("x", tools=[{"type": "function", "function": {"name": "f"}}], client=object())
