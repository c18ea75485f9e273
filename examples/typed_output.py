"""A final answer as a Python value: run(..., output_type=Forecast) returns a Forecast.

    LIGHTLLM_BASE_URL=http://localhost:8000 python examples/typed_output.py [tool|native|prompted]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from tools import get_weather

from toolkit import run


@dataclass
class DayForecast:
    day: str
    high: float


@dataclass
class Forecast:
    """A short forecast for one city."""

    city: str
    days: list[DayForecast]
    summary: str


if __name__ == "__main__":
    strategy = sys.argv[1] if len(sys.argv) > 1 else "tool"
    result = run("Plan my week in Paris: what will the weather be on Monday and Tuesday?", tools=[get_weather],
                 output_type=Forecast, output_strategy=strategy)
    forecast = result.output  # a Forecast instance, validated and coerced
    assert forecast is not None
    print(f"{forecast.city}: {forecast.summary}")
    for day in forecast.days:
        print(f"  {day.day}: {day.high:g}")
