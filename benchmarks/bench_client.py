"""Client overhead per call, side by side in one run, against a local LightLLM-protocol server.

Run: python benchmarks/bench_client.py
Compares raw ``requests.Session().post(...).json()`` with LightLLMClient (template rendering and
tool-call parsing included), OpenAICompatibleClient and the openai SDK (when installed), on the
same server and the same answer (a text plus one tool call).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from _common import per_call, table  # noqa: E402

from toolkit import LightLLMClient, OpenAICompatibleClient, tool  # noqa: E402
from toolkit.testing._server import LightLLMServer  # noqa: E402

ANSWER = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


@tool
def get_weather(city: str, unit: str = "celsius") -> dict:
    """Get the current weather for a city.

    Args:
        city: City name.
        unit: Temperature unit.
    """


def main() -> None:
    import requests

    server = LightLLMServer().start()
    server.queue(*[ANSWER] * 0)
    server.next_item = lambda body: ANSWER  # every call gets the same answer, no script bookkeeping
    server.record = lambda *a: None
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    tools = [get_weather.schema]
    native = LightLLMClient(base_url=server.url, max_retries=0)
    oai = OpenAICompatibleClient(base_url=server.url, max_retries=0)
    prompt = native.render(messages, tools=tools)
    session = requests.Session()
    chat_body = {"model": "m", "messages": messages, "tools": tools, "temperature": 0.7, "max_tokens": 64}
    gen_body = {"inputs": prompt, "parameters": {"do_sample": True, "temperature": 0.7, "max_new_tokens": 64}}

    rows_v1 = [
        ("raw requests /v1/chat/completions", per_call(
            lambda: session.post(server.url + "/v1/chat/completions", json=chat_body).json(), min_time=1.0)),
        ("OpenAICompatibleClient", per_call(
            lambda: oai.chat.completions.create(model="m", messages=messages, tools=tools, temperature=0.7,
                                                max_tokens=64), min_time=1.0)),
    ]
    try:
        import openai

        sdk = openai.OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0)
        rows_v1.append(("openai SDK", per_call(
            lambda: sdk.chat.completions.create(model="m", messages=messages, tools=tools, temperature=0.7,
                                                max_tokens=64), min_time=1.0)))
    except ImportError:
        rows_v1.append(("openai SDK", None))
    print("\n/v1/chat/completions (answer: text + one tool call)")
    print(table(rows_v1, "raw requests /v1/chat/completions"))

    rows_gen = [
        ("raw requests /generate (prompt pre-rendered)", per_call(
            lambda: session.post(server.url + "/generate", json=gen_body).json(), min_time=1.0)),
        ("LightLLMClient (renders + parses)", per_call(
            lambda: native.chat.completions.create(messages=messages, tools=tools, temperature=0.7, max_tokens=64),
            min_time=1.0)),
    ]
    print("\n/generate (answer: text + one tool call)")
    print(table(rows_gen, "raw requests /generate (prompt pre-rendered)"))
    print(f"\n  of which template rendering: {per_call(lambda: native.render(messages, tools=tools)) * 1e6:.1f} us")
    server.stop()


if __name__ == "__main__":
    main()
