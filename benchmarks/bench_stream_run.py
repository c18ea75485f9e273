"""The streamed loop's overhead per token, against the plain client stream of the same answer.

Run: python benchmarks/bench_stream_run.py
The server runs in its own process (benchmarks/_server.py) and sends the same 2,000-token answer
to every request; the two candidates alternate in cycles within one run; CPU time of this process
is reported as medians, with wall time beside it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import spawn, stop  # noqa: E402

from toolkit import LightLLMClient, OpenAICompatibleClient, iter_run  # noqa: E402

TOKENS = 2000
TEXT = "word " * (TOKENS * 3 // 5)  # the test server streams 3-character tokens


def plain(client: object) -> int:
    n = 0
    with client.chat.completions.create(messages=[{"role": "user", "content": "hi"}], stream=True) as stream:  # type: ignore[attr-defined]
        for _ in stream:
            n += 1
    return n


def loop(client: object) -> int:
    n = 0
    for _ in iter_run("hi", client=client, stream=True, context_window=10**9):
        n += 1
    return n


def measure(fn, client, cycles: int = 15) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(cycles):
        c0, w0 = time.process_time(), time.perf_counter()
        fn(client)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(TEXT)
    server, url = spawn("_server.py", f.name)
    try:
        print(f"{'client':26} {'plain stream CPU ms':>20} {'iter_run CPU ms':>16} {'extra us/token':>15} "
              f"{'ratio':>7}")
        for name, cls in (("LightLLMClient", LightLLMClient), ("OpenAICompatibleClient", OpenAICompatibleClient)):
            with cls(base_url=url, max_retries=0) as client:
                plain(client), loop(client)  # warm up
                results: dict[str, list[float]] = {"plain": [], "loop": []}
                for _ in range(5):  # alternate the candidates
                    results["plain"].append(measure(plain, client, 3)[0])
                    results["loop"].append(measure(loop, client, 3)[0])
                a, b = statistics.median(results["plain"]), statistics.median(results["loop"])
                print(f"{name:26} {a * 1e3:20.1f} {b * 1e3:16.1f} {(b - a) / TOKENS * 1e6:15.2f} {b / a:6.2f}x")
    finally:
        stop(server)
        os.unlink(f.name)


if __name__ == "__main__":
    main()
