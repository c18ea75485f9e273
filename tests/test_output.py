"""Typed output: every strategy x both clients x stream on/off, over real HTTP."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Literal

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from toolkit import LightLLMClient, OutputValidationError, run, tool
from toolkit.testing._server import Reply

from .conftest import call


@dataclasses.dataclass
class DayForecast:
    day: str
    high: int


@dataclasses.dataclass
class Forecast:
    city: str
    days: list[DayForecast]
    summary: str


FORECAST = {"city": "Paris", "days": [{"day": "Mon", "high": "21"}], "summary": "Sunny"}
EXPECTED = Forecast("Paris", [DayForecast("Mon", 21)], "Sunny")


@tool
def get_weather(city: str) -> dict:
    """Get the weather for a city."""
    return {"city": city, "high": 21}



STREAM = pytest.mark.parametrize("stream", [False, True], ids=["oneshot", "stream"])


# -- the tool strategy ---------------------------------------------------------------------------------

@STREAM
def test_tool_strategy_valid_first_time(any_client, server, stream):
    server.queue(call("get_weather", city="Paris"), call("final_result", **FORECAST))
    result = run("Plan my week in Paris", tools=[get_weather], client=any_client, output_type=Forecast,
                 stream=stream)
    assert result.output == EXPECTED and result.stop_reason == "output"
    sent_tools = [t["function"]["name"] for t in _tools_sent(server.posts[0].body)]
    assert sent_tools == ["get_weather", "final_result"]
    # the transcript is valid: the final_result call is answered too
    assert result.messages[-1] == {"role": "tool", "tool_call_id": result.messages[-2]["tool_calls"][0]["id"],
                                   "content": "Final result received."}


def _tools_sent(body):
    if "tools" in body:
        return body["tools"]
    return [json.loads(line) for line in body["inputs"].split("<tools>")[-1].split("</tools>")[0].strip().splitlines()]


@STREAM
def test_tool_strategy_invalid_then_valid(any_client, server, stream):
    server.queue(call("final_result", city="Paris", days=[{"day": "Mon"}]), call("final_result", **FORECAST))
    result = run("x", client=any_client, output_type=Forecast, stream=stream)
    assert result.output == EXPECTED and result.steps == 2
    feedback = [m for m in result.messages if m["role"] == "tool"][0]["content"]
    assert "days[0].high: required property is missing" in feedback and "summary: required property" in feedback


def test_tool_strategy_invalid_until_retries_are_spent(any_client, server):
    server.queue(*[call("final_result", city=1)] * 3)
    with pytest.raises(OutputValidationError) as info:
        run("x", client=any_client, output_type=Forecast, output_retries=2)
    assert info.value.result.steps == 3 and ("days", "required property is missing") in info.value.problems
    server.queue("fine")  # the transcript is accepted
    assert run(info.value.result.messages, client=any_client).output == "fine"


@pytest.mark.parametrize("text", [json.dumps(FORECAST), "Here:\n```json\n" + json.dumps(FORECAST) + "\n```"],
                         ids=["bare", "fenced"])
def test_text_instead_of_a_call_is_read_as_json(any_client, server, text):
    server.queue(text)
    result = run("x", client=any_client, output_type=Forecast)
    assert result.output == EXPECTED and result.steps == 1


def test_text_without_json_gets_one_reminder(any_client, server):
    server.queue("It will be sunny.", call("final_result", **FORECAST))
    result = run("x", client=any_client, output_type=Forecast)
    assert result.output == EXPECTED
    assert any(m["role"] == "user" and "by calling the final_result tool" in m["content"] for m in result.messages)


def test_other_calls_alongside_final_result_run_first(any_client, server):
    ran = []

    @tool
    def log(note: str) -> str:
        """Write a note."""
        ran.append(note)
        return "ok"

    server.queue(call("log", note="done") + call("final_result", **FORECAST))
    result = run("x", tools=[log], client=any_client, output_type=Forecast)
    assert ran == ["done"] and result.output == EXPECTED
    assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "tool"]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(TypedDict):
    x: int
    y: int


class Person(BaseModel):
    name: str
    age: int


@pytest.mark.parametrize("output_type, arguments, expected", [
    (int, {"result": "42"}, 42),
    (bool, {"result": "true"}, True),
    (list[int], {"result": ["1", 2]}, [1, 2]),
    (Literal["yes", "no"], {"result": "yes"}, "yes"),
    (Colour, {"result": "blue"}, Colour.BLUE),
    (Point, {"x": "1", "y": 2}, {"x": 1, "y": 2}),
    (Person, {"name": "Ann", "age": "30"}, Person(name="Ann", age=30)),
    (int | str, {"result": "7"}, "7"),
], ids=["int", "bool", "list", "literal", "enum", "typeddict", "pydantic", "union"])
def test_every_parameter_type_is_an_output_type(client, server, output_type, arguments, expected):
    server.queue(call("final_result", **arguments))
    result = run("x", client=client, output_type=output_type)
    assert result.output == expected
    parameters = [t for t in _tools_sent(server.posts[0].body) if t["function"]["name"] == "final_result"][0]
    wrapped = "result" in parameters["function"]["parameters"]["properties"]
    assert wrapped == (output_type not in (Point, Person))


def test_output_tool_name_and_str_output(client, server):
    server.queue(call("answer", **FORECAST))
    result = run("x", client=client, output_type=Forecast, output_tool_name="answer")
    assert result.output == EXPECTED
    server.queue("plain text")
    assert run("x", client=client, output_type=str).output == "plain text"


def test_constraint_keywords_by_hand_are_refused(client, server):
    for keyword in ("guided_json", "response_format"):
        with pytest.raises(ValueError, match="pass output_type="):
            run("x", client=client, **{keyword: "{}"})
    assert server.posts == []


# -- the native strategy -----------------------------------------------------------------------------------

@STREAM
def test_native_strategy_on_the_wire(any_client, server, stream):
    server.queue(call("get_weather", city="Paris"), "Let me write it up.", json.dumps(FORECAST))
    result = run("x", tools=[get_weather], client=any_client, output_type=Forecast, output_strategy="native",
                 stream=stream)
    assert result.output == EXPECTED and result.stop_reason == "output"
    first, second, constrained = server.posts
    if isinstance(any_client, LightLLMClient):
        assert "guided_json" not in first.body["parameters"]
        schema = json.loads(constrained.body["parameters"]["guided_json"])  # a JSON-encoded string
        assert "<tools>" not in constrained.body["inputs"]
    else:
        assert "response_format" not in first.body
        format_ = constrained.body["response_format"]
        assert format_["type"] == "json_schema" and format_["json_schema"]["name"] == "Forecast"
        assert format_["json_schema"]["strict"] is True
        schema = format_["json_schema"]["schema"]
        assert constrained.body.get("tools") is None
    assert schema["required"] == ["city", "days", "summary"]


def test_native_strategy_retries_invalid_output(any_client, server):
    server.queue("done", '{"city": "Paris"}', json.dumps(FORECAST))
    result = run("x", client=any_client, output_type=Forecast, output_strategy="native")
    assert result.output == EXPECTED
    assert any(m["role"] == "user" and "does not match the required JSON Schema" in m["content"]
               for m in result.messages)


def test_native_schema_over_the_2048_byte_cap(client, server):
    fields = {f"field_{i}_with_a_long_name": (str, ...) for i in range(80)}
    big = dataclasses.make_dataclass("Big", [(name, str) for name in fields])
    server.queue("done")
    with pytest.raises(ValueError, match="LIGHTLLM_JSON_SCHEMA_MAX_LENGTH"):
        run("x", client=client, output_type=big, output_strategy="native")


# -- the prompted strategy ------------------------------------------------------------------------------------

@STREAM
def test_prompted_strategy(any_client, server, stream):
    server.queue("not json", "```json\n" + json.dumps(FORECAST) + "\n```")
    result = run("x", client=any_client, output_type=Forecast, output_strategy="prompted", stream=stream)
    assert result.output == EXPECTED
    system = result.messages[0]
    assert system["role"] == "system" and '"required": ["city", "days", "summary"]' in system["content"]


def test_output_options_are_checked(client, server):
    with pytest.raises(ValueError, match="output_strategy"):
        run("x", client=client, output_type=Forecast, output_strategy="json")
    with pytest.raises(ValueError, match="output_retries"):
        run("x", client=client, output_type=Forecast, output_retries=-1)
    with pytest.raises(ValueError, match="already named 'final_result'"):
        run("x", tools=[tool(lambda: 1, name="final_result")], client=client, output_type=Forecast)
    assert server.posts == []


def test_slow_reply_still_counts_once(client, server):
    server.queue(Reply(call("final_result", **FORECAST), delay=0.01))
    assert run("x", client=client, output_type=Forecast).usage.total_tokens > 0
