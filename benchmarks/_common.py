"""Timing helpers shared by the benchmarks (run by hand: ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def alternate(candidates: dict[str, Callable[[], object]], *, rounds: int = 7, calls: int = 200,
              ) -> dict[str, tuple[float, float]]:
    """Each candidate ``calls`` times per round, the candidates alternated round after round (after
    one warm-up call each): {name: (median CPU seconds per call, median wall seconds per call)}."""
    import statistics

    for fn in candidates.values():
        fn()
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    wall: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(calls):
                fn()
            cpu[name].append((time.process_time() - c0) / calls)
            wall[name].append((time.perf_counter() - w0) / calls)
    return {name: (statistics.median(cpu[name]), statistics.median(wall[name])) for name in candidates}


def ratio_table(results: dict[str, tuple[float, float] | None], baseline: str) -> str:
    """``alternate`` results as rows: CPU and wall µs per call, and the CPU ratio to ``baseline``."""
    base = results[baseline]
    assert base is not None
    lines = [f"{'':44} {'CPU us/call':>12} {'wall us/call':>13} {'CPU vs ' + baseline[:18]:>26}"]
    for name, value in results.items():
        if value is None:
            lines.append(f"{name:44} {'not installed':>12}")
            continue
        lines.append(f"{name:44} {value[0] * 1e6:12.1f} {value[1] * 1e6:13.1f} {value[0] / base[0]:25.2f}x")
    return "\n".join(lines)


def spawn(script: str, *args: str) -> tuple[object, str]:
    """Start ``benchmarks/<script>`` in its own process; (process, base URL). Stop it with ``stop()``."""
    import os
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), script),
                                *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()  # type: ignore[union-attr]


def stop(process: object) -> None:
    process.stdin.close()  # type: ignore[attr-defined]
    process.wait(10)  # type: ignore[attr-defined]
