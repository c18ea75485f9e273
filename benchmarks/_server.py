"""The LightLLM-protocol test server in its own process, answering every request with one fixed text.

    python benchmarks/_server.py TEXT_FILE     # prints the base URL, serves until stdin closes
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from toolkit.testing._server import LightLLMServer  # noqa: E402


def main() -> None:
    text = open(sys.argv[1], encoding="utf-8").read()
    server = LightLLMServer().start()
    server.next_item = lambda body: text  # type: ignore[method-assign]
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
