"""The streamed loop's overhead per token, against the plain client stream of the same answer.

Run: python benchmarks/bench_stream_run.py
The server runs in its own process (benchmarks/_server.py) and sends the same 2,000-token answer
to every request; the two candidates alternate in cycles within one run; CPU time of this process
is reported as medians, with wall time beside it.
"""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import alternate, spawn, stop  # noqa: E402

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


def main() -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(TEXT)
    server, url = spawn("_server.py", f.name)
    try:
        print(f"{'client':26} {'plain stream CPU ms':>20} {'iter_run CPU ms':>16} {'extra us/token':>15} "
              f"{'ratio':>7} {'wall ms':>10} {'wall ms':>10}")
        for name, cls in (("LightLLMClient", LightLLMClient), ("OpenAICompatibleClient", OpenAICompatibleClient)):
            with cls(base_url=url, max_retries=0) as client:
                results = alternate({"plain": lambda client=client: plain(client),
                                     "loop": lambda client=client: loop(client)}, rounds=5, calls=3)
            (a, wa), (b, wb) = results["plain"], results["loop"]
            print(f"{name:26} {a * 1e3:20.1f} {b * 1e3:16.1f} {(b - a) / TOKENS * 1e6:15.2f} {b / a:6.2f}x "
                  f"{wa * 1e3:10.1f} {wb * 1e3:10.1f}")
    finally:
        stop(server)
        os.unlink(f.name)


if __name__ == "__main__":
    main()
