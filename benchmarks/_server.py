"""The LightLLM-protocol test server in its own process, answering every request with one fixed text.

    python benchmarks/_server.py TEXT_FILE     # prints the base URL, serves until stdin closes
    python benchmarks/_server.py --demo        # a scripted model that calls get_weather, then answers
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
    else:
        text = open(sys.argv[1], encoding="utf-8").read()
        server.next_item = lambda body: text  # type: ignore[method-assign]
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
