"""Throughput at scale: run_many over 1,000 conversations at 8, 32 and 128 workers against a raw loop
with one shared requests.Session on the same threads; 16 threads sharing one client; import + client.

Run: python benchmarks/bench_scale.py
The server (a scripted model: one tool call, then an answer) runs in its own process. Candidates
alternate in rounds; reported are medians of conversations/s and CPU ms per conversation, peak RSS,
and "connection pool is full" warnings. openai-agents and pydantic-ai join when installed.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _peers  # noqa: E402
import requests  # noqa: E402
from _common import alternate, spawn, stop  # noqa: E402

from toolkit import LightLLMClient, OpenAICompatibleClient, run_many  # noqa: E402
from toolkit.testing._demo import get_weather  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_loop import PROMPT, raw_v1  # noqa: E402

N = 1000


class Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.full = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.full += "pool is full" in record.getMessage()


def cycles(candidates: dict[str, Callable[[], Any]], counter: Count, rounds: int = 3, n: int = N,
           ) -> dict[str, tuple[float, float, int]]:
    """Each candidate (``n`` conversations or calls) ``rounds`` times, alternated: median per
    second, median CPU ms per item, and "pool is full" warnings in all rounds."""
    full = dict.fromkeys(candidates, 0)

    def counted(name: str, fn: Callable[[], Any]) -> Callable[[], None]:
        def go() -> None:
            before = counter.full
            fn()
            full[name] += counter.full - before
        return go

    results = alternate({name: counted(name, fn) for name, fn in candidates.items()}, rounds=rounds, calls=1)
    return {name: (n / wall, cpu / n * 1e3, full[name]) for name, (cpu, wall) in results.items()}


def main() -> None:
    counter = Count()
    logging.getLogger("urllib3").addHandler(counter)
    server, url = spawn("_server.py", "--demo")
    peers = {"openai-agents Runner.run": _peers.openai_agents(url, PROMPT),
             "pydantic-ai Agent.run": _peers.pydantic_ai(url, PROMPT)}
    for name, peer in peers.items():
        if peer is None:
            print(f"{name}: not installed (pip install openai-agents 'pydantic-ai-slim[openai]' to compare)")
    try:
        print(f"{'candidate':38} {'conv/s':>8} {'CPU ms/conv':>12} {'pool full':>10}")
        for workers in (8, 32, 128):
            client = OpenAICompatibleClient(base_url=url, max_retries=0)
            session = requests.Session()
            session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=workers))
            pool = concurrent.futures.ThreadPoolExecutor(workers)
            candidates = {
                f"run_many, {workers} workers": lambda w=workers, c=client: run_many(
                    [PROMPT] * N, [get_weather], client=c, max_workers=w, context_window=10**9),
                f"raw loop, shared session, {workers} thr.": lambda p=pool, s=session: list(
                    p.map(lambda _: raw_v1(s, url), range(N))),
            }
            for name, peer in peers.items():
                if peer is not None:
                    candidates[f"{name}, {workers} at a time"] = lambda p=peer, w=workers: p(N, w)
            rows = cycles(candidates, counter)
            for name, (rate, cpu, full) in rows.items():
                print(f"{name:38} {rate:8.0f} {cpu:12.2f} {full:10}")
            (ours, our_cpu, _), (raw, raw_cpu, _), *others = rows.values()
            print(f"{'':38} run_many / raw loop: throughput {ours / raw:.2f}x, CPU {our_cpu / raw_cpu:.2f}x; "
                  f"run_many / fastest peer: " + (f"{ours / max(o[0] for o in others):.2f}x" if others else "-"))
            pool.shutdown()
            client.close()
            session.close()
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        shared_client(url, counter)
    finally:
        stop(server)
    import_and_client()


def shared_client(url: str, counter: Count) -> None:
    """16 threads sharing one client, single calls: calls/s against one ``requests.Session`` on
    the same route and, on /v1, one openai SDK client; alternated in rounds."""
    messages = [{"role": "user", "content": "hi"}]
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
    native = LightLLMClient(base_url=url, max_retries=0)
    oai = OpenAICompatibleClient(base_url=url, max_retries=0, pool_maxsize=16)
    candidates: dict[str, Callable[[Any], Any]] = {
        "LightLLMClient (/generate)": lambda _: native.chat.completions.create(messages=messages),
        "requests.Session (/generate)": lambda _: session.post(
            url + "/generate", json={"inputs": "hi", "parameters": {}}).json(),
        "OpenAICompatibleClient (/v1)": lambda _: oai.chat.completions.create(model="m", messages=messages),
        "requests.Session (/v1)": lambda _: session.post(
            url + "/v1/chat/completions", json={"model": "m", "messages": messages}).json(),
    }
    try:
        import openai

        sdk = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0)
        candidates["openai SDK (/v1)"] = lambda _: sdk.chat.completions.create(model="m", messages=messages)
    except ImportError:
        print("openai SDK: not installed")
    calls = 2000
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        rows = cycles({name: (lambda fn=fn: list(pool.map(fn, range(calls)))) for name, fn in candidates.items()},
                      counter, n=calls)
    for name, (rate, cpu, full) in rows.items():
        print(f"{'16 threads, one ' + name:46} {rate:8.0f} calls/s {cpu * 1e3:8.0f} CPU us/call  pool full {full}")
    native.close()
    oai.close()


def import_and_client(cycles: int = 9) -> None:
    """A cold ``from toolkit import LightLLMClient, run`` + a client, against ``import requests`` +
    a Session, alternated in fresh interpreters. toolkit is byte-compiled first, as an installed
    package is (an editable checkout under PYTHONDONTWRITEBYTECODE would compile on every import)."""
    import compileall

    import toolkit

    compileall.compile_dir(os.path.dirname(toolkit.__file__), quiet=1)
    code = "import time; t=time.perf_counter(); {}; print((time.perf_counter()-t)*1e3)"
    candidates = {"toolkit": "from toolkit import LightLLMClient, run; LightLLMClient()",
                  "requests": "import requests; requests.Session()"}
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(cycles):
        for name, statement in candidates.items():
            out = subprocess.run([sys.executable, "-c", code.format(statement)], capture_output=True, text=True)
            times[name].append(float(out.stdout))
    a, b = statistics.median(times["toolkit"]), statistics.median(times["requests"])
    print(f"import + client: toolkit {a:.1f} ms, requests {b:.1f} ms ({a / b:.2f}x)")

if __name__ == "__main__":
    main()
