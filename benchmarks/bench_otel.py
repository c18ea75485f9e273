"""What tracing costs a run: opentelemetry absent, installed without a provider, and recording.

Run: python benchmarks/bench_otel.py   (each case in its own process; a scripted client, no server)
"""

from __future__ import annotations

import subprocess
import sys

CASE = r"""
import sys, time, statistics
MODE = {mode!r}
if MODE == "absent":
    sys.modules["opentelemetry"] = None
import toolkit
from toolkit.testing import ScriptedClient
if MODE == "recording":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    provider = TracerProvider(); provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    trace.set_tracer_provider(provider)

@toolkit.tool
def get_weather(city: str) -> dict:
    "Weather."
    return {{"city": city}}

script = ['<tool_call>\n{{"name": "get_weather", "arguments": {{"city": "Paris"}}}}\n</tool_call>', "done"]
def once():
    toolkit.run("x", tools=[get_weather], client=ScriptedClient(list(script)))
for _ in range(200): once()
times = []
for _ in range(15):
    t = time.process_time()
    for _ in range(200): once()
    times.append((time.process_time() - t) / 200)
print(statistics.median(times))
"""


def main() -> None:
    results = {}
    for mode in ("absent", "no_provider", "recording"):
        out = subprocess.run([sys.executable, "-c", CASE.format(mode=mode)], capture_output=True, text=True, check=True)
        results[mode] = float(out.stdout)
    base = results["absent"]
    for mode, seconds in results.items():
        print(f"{mode:12} {seconds * 1e6:8.1f} us per run (2 model calls, 1 tool call)  {seconds / base:5.2f}x")


if __name__ == "__main__":
    main()
