"""README snippets, checked by mypy --strict and pyright in CI (assert_type fails the check if a type is wrong)."""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import assert_type

from toolkit import LightLLMClient, OpenAICompatibleClient, RunResult, Tool, iter_run, run, tool
from toolkit.client import ChatCompletion, ChatCompletionChunk
from toolkit.client._stream import Stream


@dataclass
class Forecast:
    city: str
    summary: str


@tool
def get_weather(city: str) -> dict[str, object]:
    """Get the current weather for a city."""
    return {"city": city}


def snippets() -> None:
    assert_type(get_weather, Tool)
    client = LightLLMClient(base_url="http://localhost:8000")
    assert_type(client, LightLLMClient)
    result = run("What's the weather in Paris?", tools=[get_weather], client=client)
    assert_type(result, RunResult[str])
    forecast = run("Plan my week in Paris", tools=[get_weather], client=client, output_type=Forecast)
    assert_type(forecast, RunResult[Forecast])
    assert_type(forecast.output, "Forecast | None")
    assert_type(result.output, "str | None")
    completion = client.chat.completions.create(messages=[{"role": "user", "content": "hi"}])
    assert_type(completion, ChatCompletion)
    stream = OpenAICompatibleClient().chat.completions.create(messages=[{"role": "user", "content": "hi"}],
                                                              stream=True)
    assert_type(stream, Stream[ChatCompletionChunk])
    for event in iter_run("hi", tools=[get_weather], client=client):
        print(event.type)
