"""Timing helpers shared by the benchmarks (run by hand: ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], *, min_time: float = 0.3, repeat: int = 5) -> float:
    """Best-of-``repeat`` seconds per call of ``fn``."""
    n = 1
    while True:  # calibrate the loop count
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / repeat or n >= 1 << 20:
            break
        n *= 2
    best = elapsed / n
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def table(rows: list[tuple[str, float | str | None]], baseline: str, unit: str = "us") -> str:
    """Rows of (name, seconds) as a table with ratios against ``baseline``."""
    scale = {"us": 1e6, "ms": 1e3}[unit]
    base = dict(rows).get(baseline)
    lines = [f"{'':44} {unit + '/call':>12} {'vs ' + baseline:>18}"]
    for name, seconds in rows:
        if seconds is None or isinstance(seconds, str):
            lines.append(f"{name:44} {seconds or 'not installed':>12}")
            continue
        ratio = f"{seconds / base:.2f}x" if base else ""
        lines.append(f"{name:44} {seconds * scale:12.1f} {ratio:>18}")
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
