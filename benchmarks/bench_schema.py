"""Schema building: toolkit vs transformers' get_json_schema, langchain-core and openai-agents.

Run: python benchmarks/bench_schema.py
Each peer builds the schema of the same functions in the same run, the candidates alternated round
after round; figures are medians of CPU µs per build, wall beside them.
"""

import dataclasses
import statistics
import subprocess
import sys
from typing import Literal

sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import alternate, ratio_table  # noqa: E402

from toolkit import Tool  # noqa: E402


def search_flights(origin: str, destination: str, date: str, cabin: Literal["economy", "business", "first"] = "economy",
                   passengers: int = 1, max_price: float | None = None, airlines: list[str] | None = None) -> list:
    """Search one-way flights between two airports.

    Args:
        origin: IATA code of the departure airport.
        destination: IATA code of the arrival airport.
        date: Departure date, YYYY-MM-DD.
        cabin: Cabin class.
        passengers: Number of passengers.
        max_price: Highest acceptable price in EUR.
        airlines: Only these airlines.
    """


def search_flights_future(origin: "str", destination: "str", date: "str",
                          cabin: 'Literal["economy", "business", "first"]' = "economy", passengers: "int" = 1,
                          max_price: "float | None" = None, airlines: "list[str] | None" = None) -> "list":
    # the same function as written under `from __future__ import annotations` (string hints)
    pass


search_flights_future.__doc__ = search_flights.__doc__


@dataclasses.dataclass
class Address:
    street: str
    city: str
    zip_code: str | None = None


@dataclasses.dataclass
class Customer:
    name: str
    address: Address
    tags: list[str] = dataclasses.field(default_factory=list)


def create_customer(customer: Customer, notify: bool = False) -> str:
    """Create a customer record.

    Args:
        customer: The customer to create.
        notify: Send a welcome e-mail.
    """


def resample(values: list[float], factor: int, method: Literal["linear", "nearest"] = "linear") -> list:
    """Resample a series.

    Parameters
    ----------
    values : list of float
        The samples.
    factor : int
        Upsampling factor.
    method : str
        Interpolation method.
    """


FUNCTIONS = [search_flights, search_flights_future, create_customer, resample]


def clear_caches() -> None:
    """toolkit caches per type and per docstring; clear them so every build does the whole work."""
    from toolkit.schema import _build, _docstrings

    _build._cache.clear()
    _docstrings.parse_docstring.cache_clear()


def peers():
    out = {}
    try:
        from transformers.utils import get_json_schema

        out["transformers get_json_schema"] = get_json_schema
    except Exception:
        out["transformers get_json_schema"] = None
    try:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        out["langchain-core convert_to_openai_tool"] = convert_to_openai_tool
    except Exception:
        out["langchain-core convert_to_openai_tool"] = None
    try:
        from agents.function_schema import function_schema

        out["openai-agents function_schema"] = lambda f: function_schema(f, strict_json_schema=False)
    except Exception:
        out["openai-agents function_schema"] = None
    return out


def main() -> None:
    others = peers()
    for func in FUNCTIONS:
        def ours(func=func):
            clear_caches()
            return Tool(func).schema

        def ours_warm(func=func):
            return Tool(func).schema

        candidates = {"toolkit Tool(f).schema (cold caches)": ours,
                      "toolkit Tool(f).schema (type cache warm)": ours_warm}
        missing = []
        for name, build in others.items():
            if build is None:
                missing.append(name)
                continue
            try:
                build(func)
            except Exception as exc:  # a peer that cannot describe the function
                print(f"  {name}: fails on {func.__name__}: {type(exc).__name__}: {exc}"[:160])
                continue
            candidates[name] = lambda b=build, f=func: b(f)
        results: dict[str, tuple[float, float] | None] = dict(alternate(candidates, rounds=5, calls=100))
        results.update(dict.fromkeys(missing))
        print(f"\n{func.__name__}")
        print(ratio_table(results, "toolkit Tool(f).schema (cold caches)"))

    # invoke overhead: a 5-argument call, against calling the function directly
    tool_ = Tool(search_flights)
    args = {"origin": "CDG", "destination": "FCO", "date": "2025-01-01", "cabin": "business", "passengers": "2"}
    text = '{"origin": "CDG", "destination": "FCO", "date": "2025-01-01", "cabin": "business", "passengers": "2"}'
    print("\ninvoke overhead (5 arguments)")
    print(ratio_table(dict(alternate({
        "direct call": lambda: search_flights("CDG", "FCO", "2025-01-01", "business", 2),
        "tool.invoke(dict)": lambda: tool_.invoke(args),
        "tool.invoke(json str)": lambda: tool_.invoke(text),
    }, calls=2000)), "direct call"))

    # cold import, each in a fresh interpreter, alternated; toolkit byte-compiled first as installed
    import compileall
    import os

    import toolkit

    compileall.compile_dir(os.path.dirname(toolkit.__file__), quiet=1)

    def import_time(module: str) -> float:
        code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout)

    times: dict[str, list[float]] = {"requests": [], "toolkit": []}
    for _ in range(7):
        for module in times:
            times[module].append(import_time(module))
    a, b = statistics.median(times["requests"]), statistics.median(times["toolkit"])
    print(f"\ncold import (wall, median of 7): import requests {a * 1e3:.1f} ms, import toolkit {b * 1e3:.1f} ms "
          f"({b / a:.2f}x)")


if __name__ == "__main__":
    main()
