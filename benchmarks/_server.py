"""The LightLLM-protocol test server in its own process, answering every request with one fixed text.

    python benchmarks/_server.py TEXT_FILE     # prints the base URL, serves until stdin closes
    python benchmarks/_server.py --demo        # a scripted model that calls get_weather, then answers
    python benchmarks/_server.py --parallel N  # a scripted model that makes N calls of sleepy(i), then answers
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from toolkit.testing._server import LightLLMServer  # noqa: E402


def main() -> None:
    server = LightLLMServer().start()
    server.record = lambda *args: None  # type: ignore[method-assign]  # no log: long runs stay flat
    if sys.argv[1] == "--demo":  # a scripted model: every tool once, then an answer
        from toolkit.testing import scripted_model
        from toolkit.testing._demo import get_weather

        model = scripted_model([get_weather])
        server.next_item = model  # type: ignore[method-assign]
    elif sys.argv[1] == "--parallel":  # N calls of sleepy(i) in one answer, then an answer
        import json

        calls = "".join("<tool_call>\n" + json.dumps({"name": "sleepy", "arguments": {"i": i}}) + "\n</tool_call>\n"
                        for i in range(int(sys.argv[2])))

        def parallel(body: dict) -> str:
            answered = "<tool_response>" in body.get("inputs", "") or any(
                m.get("role") == "tool" for m in body.get("messages", ()))
            return "done" if answered else calls

        server.next_item = parallel  # type: ignore[method-assign]
    else:
        text = open(sys.argv[1], encoding="utf-8").read()
        server.next_item = lambda body: text  # type: ignore[method-assign]
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
