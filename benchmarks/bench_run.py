"""N parallel tool calls of t seconds each: the wall time of run()'s tool phase, in units of t.

Run: python benchmarks/bench_run.py
The server is another process (benchmarks/_server.py --parallel N: a scripted model that makes N
calls of ``sleepy`` in one answer, then answers). The loop's own cost per conversation, against a
raw-requests loop, is measured by benchmarks/bench_loop.py.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from _common import spawn, stop  # noqa: E402

from toolkit import LightLLMClient, run, tool  # noqa: E402

PAUSE = {"t": 0.2}


@tool
def sleepy(i: int) -> int:
    """Sleep a while."""
    time.sleep(PAUSE["t"])
    return i


def main() -> None:
    print("N parallel calls of t seconds each (wall time of the tool phase, median of 3 runs)")
    for n, t in ((4, 0.2), (8, 0.2), (8, 0.5)):
        PAUSE["t"] = t
        server, url = spawn("_server.py", "--parallel", str(n))
        try:
            with LightLLMClient(base_url=url, max_retries=0) as client:
                walls = []
                for _ in range(3):
                    result = run("go", tools=[sleepy], client=client)
                    assert len(result.tool_calls) == n, result.tool_calls
                    walls.append(max(r.finished for r in result.tool_calls) -
                                 min(r.started for r in result.tool_calls))
            wall = statistics.median(walls)
            print(f"  N={n} t={t}s: {wall:.3f}s = {wall / t:.2f} t")
        finally:
            stop(server)


if __name__ == "__main__":
    main()
