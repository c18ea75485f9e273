"""Client cost per call, side by side in one run: raw ``requests`` against LightLLMClient (template
rendering and tool-call parsing included), OpenAICompatibleClient and the openai SDK (when installed).

Run: python benchmarks/bench_client.py
The server is another process (benchmarks/_server.py) answering every request with the same text
and one tool call. Candidates alternate round after round; figures are medians of this process's
CPU time per call, wall time beside it.
"""

from __future__ import annotations

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import requests  # noqa: E402
from _common import alternate, ratio_table, spawn, stop  # noqa: E402

from toolkit import LightLLMClient, OpenAICompatibleClient  # noqa: E402
from toolkit.testing._demo import get_weather  # noqa: E402

ANSWER = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


def main() -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(ANSWER)
    server, url = spawn("_server.py", f.name)
    try:
        messages = [{"role": "user", "content": "Weather in Paris?"}]
        tools = [get_weather.schema]
        native = LightLLMClient(base_url=url, max_retries=0)
        oai = OpenAICompatibleClient(base_url=url, max_retries=0)
        prompt = native.render(messages, tools=tools)
        session = requests.Session()
        chat_body = {"model": "m", "messages": messages, "tools": tools, "temperature": 0.7, "max_tokens": 64}
        gen_body = {"inputs": prompt, "parameters": {"do_sample": True, "temperature": 0.7, "max_new_tokens": 64}}
        v1: dict[str, object] = {
            "raw requests /v1/chat/completions": lambda: session.post(url + "/v1/chat/completions",
                                                                      json=chat_body).json(),
            "OpenAICompatibleClient": lambda: oai.chat.completions.create(
                model="m", messages=messages, tools=tools, temperature=0.7, max_tokens=64),
        }
        try:
            import openai

            sdk = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
            v1["openai SDK"] = lambda: sdk.chat.completions.create(model="m", messages=messages, tools=tools,
                                                                   temperature=0.7, max_tokens=64)
        except ImportError:
            pass
        results: dict[str, tuple[float, float] | None] = dict(alternate(v1))  # type: ignore[arg-type]
        results.setdefault("openai SDK", None)
        print("/v1/chat/completions (answer: text + one tool call)")
        print(ratio_table(results, "raw requests /v1/chat/completions"))
        generate = alternate({
            "raw requests /generate (prompt pre-rendered)": lambda: session.post(url + "/generate",
                                                                                 json=gen_body).json(),
            "LightLLMClient (renders + parses)": lambda: native.chat.completions.create(
                messages=messages, tools=tools, temperature=0.7, max_tokens=64),
            "LightLLMClient.render alone": lambda: native.render(messages, tools=tools),
        })
        print("\n/generate (answer: text + one tool call)")
        print(ratio_table(dict(generate), "raw requests /generate (prompt pre-rendered)"))
        native.close()
        oai.close()
    finally:
        stop(server)
        os.unlink(f.name)


if __name__ == "__main__":
    main()
