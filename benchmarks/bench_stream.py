"""Consuming a stream, end to end over HTTP, against the floor: raw ``requests`` ``iter_lines`` +
``json.loads`` of the same events.

Run: python benchmarks/bench_stream.py [--no-orjson]
The server is another process replaying recorded bytes (benchmarks/_replay.py), so the client is
the bottleneck. Cases: (a) ~200 KB of plain text in 4-character tokens (~50,000 events), (b) one
200 KB tool call token by token, (c) 50 parallel small calls. Candidates alternate in cycles;
figures are medians of this process's CPU time.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402
from _common import alternate, spawn, stop  # noqa: E402

from toolkit import LightLLMClient, OpenAICompatibleClient  # noqa: E402

TOOLS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
         for n in ("write_file", "search")]


def texts(case: str) -> list[str]:
    if case == "text":
        return ["word"] * 50_000
    if case == "one_call":
        body = json.dumps({"name": "write_file", "arguments": {"path": "a.txt", "content": "x" * 200_000}})
        text = "<tool_call>\n" + body + "\n</tool_call>"
    else:
        text = "".join("<tool_call>\n" + json.dumps({"name": "search", "arguments": {"q": f"item {i}", "n": i}})
                       + "\n</tool_call>\n" for i in range(50))
    return [text[i:i + 4] for i in range(0, len(text), 4)]


def native_body(pieces: list[str]) -> bytes:
    out = []
    for i, piece in enumerate(pieces + [""]):
        last = i == len(pieces)
        out.append("data:" + json.dumps({"token": {"id": i, "text": piece, "logprob": -0.1, "special": False,
                                                    "count_output_tokens": i + 1, "prompt_tokens": 10},
                                          "generated_text": None, "finished": last,
                                          "finish_reason": "stop" if last else None, "details": None}) + "\n\n")
    return "".join(out).encode()


def openai_body(pieces: list[str]) -> bytes:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    out = ["data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                         "finish_reason": None}]}) + "\n\n"]
    out += ["data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]})
            + "\n\n" for p in pieces]
    out.append("data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
               + "\n\n")
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def raw(url: str, path: str, session: requests.Session) -> int:
    n = 0
    with session.post(url + path, data=b"{}", stream=True) as response:
        for line in response.iter_lines():
            if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
                json.loads(line[5:])
                n += 1
    return n


def ours(client: object, tools: object) -> int:
    n = 0
    with client.chat.completions.create(messages=[{"role": "user", "content": "x"}], tools=tools,  # type: ignore
                                        stream=True) as stream:
        for _ in stream:
            n += 1
    return n


def main() -> None:
    if "--no-orjson" in sys.argv:  # what toolkit uses without orjson: the standard library's scanner
        import toolkit.client._stream as stream_module

        stream_module._loads = stream_module.lean_loads
    print(f"{'case':34} {'raw CPU ms':>11} {'toolkit CPU ms':>15} {'ratio':>7} {'raw wall ms':>12} "
          f"{'toolkit wall ms':>16}")
    for case in ("text", "one_call", "calls"):
        pieces = texts(case)
        tools = None if case == "text" else TOOLS
        for name, cls, body, path in (("LightLLMClient", LightLLMClient, native_body(pieces), "/generate_stream"),
                                      ("OpenAICompatibleClient", OpenAICompatibleClient, openai_body(pieces),
                                       "/v1/chat/completions")):
            with tempfile.NamedTemporaryFile("wb", delete=False) as f:
                f.write(body)
            server, url = spawn("_replay.py", f.name)
            try:
                session = requests.Session()
                with cls(base_url=url, max_retries=0) as client:
                    results = alternate({"raw": lambda u=url, p=path, s=session: raw(u, p, s),
                                         "ours": lambda c=client, t=tools: ours(c, t)}, calls=1)
                (ra, wa), (rb, wb) = results["raw"], results["ours"]
                label = f"{case} ({len(pieces):,} events), {name}"
                print(f"{label:34.34} {ra * 1e3:11.1f} {rb * 1e3:15.1f} {rb / ra:6.2f}x {wa * 1e3:12.1f} "
                      f"{wb * 1e3:16.1f}")
            finally:
                stop(server)
                os.unlink(f.name)


if __name__ == "__main__":
    main()
