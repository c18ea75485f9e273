"""The peers a user would pick instead, pointed at the same server: openai-agents ``Runner.run``
and pydantic-ai ``Agent.run``, N conversations under asyncio.gather with at most ``workers`` at a
time (their own way to run many). Each returns None when the peer is not installed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any


def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the current weather for a city.

    Args:
        city: City name, e.g. "Paris".
        unit: "celsius" or "fahrenheit".
    """
    return json.dumps({"city": city, "temperature": 21 if unit == "celsius" else 70, "unit": unit,
                       "conditions": "sunny"})


async def _gather(n: int, workers: int, one: Callable[[], Any]) -> list[Any]:
    gate = asyncio.Semaphore(workers)

    async def limited() -> Any:
        async with gate:
            return await one()

    return await asyncio.gather(*(limited() for _ in range(n)))


def openai_agents(url: str, prompt: str) -> Callable[[int, int], list[Any]] | None:
    try:
        from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
        from openai import AsyncOpenAI
    except ImportError:
        return None
    set_tracing_disabled(True)

    def many(n: int, workers: int) -> list[Any]:
        async def main() -> list[Any]:
            client = AsyncOpenAI(base_url=url + "/v1", api_key="none")
            model = OpenAIChatCompletionsModel(model="m", openai_client=client)
            agent = Agent(name="weather", tools=[function_tool(get_weather)], model=model)

            async def one() -> Any:
                return (await Runner.run(agent, prompt)).final_output

            try:
                return await _gather(n, workers, one)
            finally:
                await client.close()

        return asyncio.run(main())

    return many


def pydantic_ai(url: str, prompt: str) -> Callable[[int, int], list[Any]] | None:
    try:
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider
    except ImportError:
        return None

    def many(n: int, workers: int) -> list[Any]:
        async def main() -> list[Any]:
            provider = OpenAIProvider(base_url=url + "/v1", api_key="none")
            agent = Agent(OpenAIChatModel("m", provider=provider), tools=[get_weather])

            async def one() -> Any:
                return (await agent.run(prompt)).output

            return await _gather(n, workers, one)

        return asyncio.run(main())

    return many
