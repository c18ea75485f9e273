"""What tracing costs a run: opentelemetry absent, installed without a provider, and recording.

Run: python benchmarks/bench_otel.py
Each case runs in a process of its own (whether opentelemetry is importable is process-wide), the
three processes alternated in rounds; a scripted client, no server. Medians of CPU time per run,
wall time beside it.
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
cpu, wall = [], []
for _ in range(5):
    t, w = time.process_time(), time.perf_counter()
    for _ in range(200): once()
    cpu.append((time.process_time() - t) / 200)
    wall.append((time.perf_counter() - w) / 200)
print(statistics.median(cpu), statistics.median(wall))
"""


def main() -> None:
    import statistics

    modes = ("absent", "no_provider", "recording")
    runs: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
    for _ in range(3):  # the processes alternated
        for mode in modes:
            out = subprocess.run([sys.executable, "-c", CASE.format(mode=mode)], capture_output=True, text=True,
                                 check=True)
            cpu, wall = out.stdout.split()
            runs[mode].append((float(cpu), float(wall)))
    base = statistics.median(c for c, _ in runs["absent"])
    for mode in modes:
        cpu = statistics.median(c for c, _ in runs[mode])
        wall = statistics.median(w for _, w in runs[mode])
        print(f"{mode:12} CPU {cpu * 1e6:8.1f} us, wall {wall * 1e6:8.1f} us per run (2 model calls, 1 tool call)  "
              f"{cpu / base:5.2f}x")

if __name__ == "__main__":
    main()
