"""run() overhead per step against a local server, and N parallel tool calls of t seconds each.

Run: python benchmarks/bench_run.py
"""

from __future__ import annotations

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from toolkit import LightLLMClient, run, tool  # noqa: E402
from toolkit.testing._server import LightLLMServer  # noqa: E402


@tool
def lookup(key: str) -> dict:
    """Look a key up."""
    return {"key": key, "value": 42}


def call(name: str, **arguments) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


def main() -> None:
    server = LightLLMServer().start()
    server.record = lambda *a: None
    client = LightLLMClient(base_url=server.url, max_retries=0)

    class Timed:
        """The client, with the time spent inside create() added up."""

        def __init__(self, inner):
            self.inner, self.spent = inner, 0.0
            self.chat = self
            self.completions = self

        def create(self, **kwargs):
            start = time.perf_counter()
            try:
                return self.inner.chat.completions.create(**kwargs)
            finally:
                self.spent += time.perf_counter() - start

    timed = Timed(client)
    server.next_item = lambda body: "done" if "<tool_response>" in body["inputs"] else call("lookup", key="x")
    rounds = 300
    start = time.perf_counter()
    for _ in range(rounds):
        run("look up x", tools=[lookup], client=timed)
    total = time.perf_counter() - start
    per_run = total / rounds
    loop = (total - timed.spent) / rounds
    print("run() overhead (LightLLMClient, local server; 2 model calls + 1 tool call per run)")
    print(f"  whole run():                 {per_run * 1e6:8.1f} us")
    print(f"  of which inside create():    {timed.spent / rounds * 1e6:8.1f} us")
    print(f"  loop overhead per step:      {loop / 2 * 1e6:8.1f} us  (lookup, repair, validation, call, "
          f"serialisation, transcript)")
    print("\nN parallel calls of t seconds each (wall time of the tool phase)")
    for n, t in ((4, 0.2), (8, 0.2), (8, 0.5)):
        @tool
        def sleepy(i: int) -> int:
            """Sleep."""
            time.sleep(t)  # noqa: B023 (used inside the iteration that defines it)
            return i

        server.next_item = lambda body, n=n: "done" if "<tool_response>" in body["inputs"] else \
            "".join(call("sleepy", i=i) for i in range(n))
        result = run("go", tools=[sleepy], client=client)
        starts = [r.started for r in result.tool_calls]
        ends = [r.finished for r in result.tool_calls]
        wall = max(ends) - min(starts)
        print(f"  N={n} t={t}s: {wall:.3f}s = {wall / t:.2f} t")
    server.stop()


if __name__ == "__main__":
    main()
