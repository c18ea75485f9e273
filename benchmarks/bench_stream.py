"""Streaming parse cost: a ~1 MB model output fed in 4-character deltas vs one-shot parsing.

Run: python benchmarks/bench_stream.py
Also checks linearity: the streamed time per MB at 0.25, 0.5 and 1 MB.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from toolkit.client import parse_tool_calls  # noqa: E402
from toolkit.client._parsers import get_parser  # noqa: E402


def sample(size: int, kind: str) -> str:
    """Model output of about ``size`` characters."""
    if kind == "one_call":  # one huge call: a file written by a tool
        body = ("line of file content with \\\"quotes\\\" and {braces}\\n" * (size // 50))[:size]
        return '<tool_call>\n{"name": "write_file", "arguments": {"path": "a.txt", "content": "' + body + '"}}\n</tool_call>'
    parts, total, i = [], 0, 0
    while total < size:
        if kind == "text":
            piece = f"Sentence number {i} of a long answer, with some words in it. "
        elif kind == "calls":
            args = {"query": f"item {i} " * 8, "limit": i % 10, "filters": {"tags": ["a", "b"], "exact": True}}
            piece = f"Step {i}.\n<tool_call>\n{json.dumps({'name': 'search', 'arguments': args})}\n</tool_call>\n"
        else:
            raise ValueError(kind)
        parts.append(piece)
        total += len(piece)
        i += 1
    return "".join(parts)


def streamed(text: str, step: int = 4) -> float:
    start = time.perf_counter()
    parser = get_parser("qwen25")()
    for i in range(0, len(text), step):
        parser.feed(text[i:i + step])
    parser.finish()
    return time.perf_counter() - start


def one_shot(text: str) -> float:
    start = time.perf_counter()
    parse_tool_calls(text, "qwen25")
    return time.perf_counter() - start


def main() -> None:
    print(f"{'output (qwen25)':32} {'one-shot ms':>12} {'4-char deltas ms':>17} {'ratio':>7}")
    for kind in ("text", "calls", "one_call"):
        text = sample(1_000_000, kind)
        a = min(one_shot(text) for _ in range(3))
        b = min(streamed(text) for _ in range(2))
        print(f"{kind + f' ({len(text) / 1e6:.2f} MB)':32} {a * 1e3:12.1f} {b * 1e3:17.1f} {b / a:6.1f}x")
    print("\nlinearity (streamed, 'calls' output): ms per MB")
    for size in (250_000, 500_000, 1_000_000):
        text = sample(size, "calls")
        print(f"  {size / 1e6:.2f} MB: {streamed(text) * 1e3 / (len(text) / 1e6):8.1f} ms/MB")


if __name__ == "__main__":
    main()
