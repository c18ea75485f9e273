"""run() per conversation against a minimal raw-requests loop doing the same conversation.

Run: python benchmarks/bench_loop.py
The server runs in its own process (benchmarks/_server.py --demo: a scripted model that calls
get_weather once, then answers). Each conversation: two model calls and one tool call. Candidates
alternate in rounds within one run; figures are medians of this process's CPU time per conversation,
wall time beside it. Targets: <= 1.15x the raw loop on /v1, <= 1.25x on /generate (template + parse
included in both candidates).
"""

from __future__ import annotations

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402
from _common import alternate, spawn, stop  # noqa: E402

from toolkit import LightLLMClient, OpenAICompatibleClient, run  # noqa: E402
from toolkit.client._template import DEFAULT_TEMPLATE_PATH  # noqa: E402
from toolkit.testing._demo import get_weather  # noqa: E402

PROMPT = "Weather in Paris?"
CALL = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.S)


def raw_v1(session: requests.Session, url: str) -> str:
    messages: list = [{"role": "user", "content": PROMPT}]
    tools = [get_weather.schema]
    for _ in range(2):
        reply = session.post(url + "/v1/chat/completions",
                             json={"model": "m", "messages": messages, "tools": tools}).json()
        message = reply["choices"][0]["message"]
        messages.append({k: v for k, v in message.items() if k in ("role", "content", "tool_calls")})
        if not message.get("tool_calls"):
            return message["content"]
        for call in message["tool_calls"]:
            result = get_weather(**json.loads(call["function"]["arguments"]))
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)})
    return ""


def make_raw_generate():
    import jinja2.sandbox

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda v, **kw: json.dumps(v, ensure_ascii=False, **kw)
    template = env.from_string(DEFAULT_TEMPLATE_PATH.read_text(encoding="utf-8"))

    def raw_generate(session: requests.Session, url: str) -> str:
        messages: list = [{"role": "user", "content": PROMPT}]
        tools = [get_weather.schema]
        for _ in range(2):
            prompt = template.render(messages=messages, tools=tools, add_generation_prompt=True)
            text = session.post(url + "/generate", json={"inputs": prompt, "parameters": {}}).json()[
                "generated_text"][0]
            calls = [json.loads(block) for block in CALL.findall(text)]
            if not calls:
                return text
            messages.append({"role": "assistant", "content": "", "tool_calls": [
                {"id": f"c{i}", "type": "function", "function": c} for i, c in enumerate(calls)]})
            for i, c in enumerate(calls):
                messages.append({"role": "tool", "tool_call_id": f"c{i}",
                                 "content": json.dumps(get_weather(**c["arguments"]))})
        return ""

    return raw_generate


def main() -> None:
    server, url = spawn("_server.py", "--demo")
    raw_generate = make_raw_generate()
    try:
        print(f"{'route':10} {'raw CPU us':>11} {'run() CPU us':>13} {'ratio':>7} {'raw wall us':>12} "
              f"{'run() wall us':>14}")
        for route, cls, raw in (("/v1", OpenAICompatibleClient, raw_v1), ("/generate", LightLLMClient, raw_generate)):
            session = requests.Session()
            with cls(base_url=url, max_retries=0) as client:
                results = alternate({
                    "raw": lambda session=session, raw=raw: raw(session, url),
                    "run": lambda client=client: run(PROMPT, [get_weather], client=client, context_window=10**9),
                }, calls=40)
            (ra, wa), (rb, wb) = results["raw"], results["run"]
            print(f"{route:10} {ra * 1e6:11.1f} {rb * 1e6:13.1f} {rb / ra:6.2f}x {wa * 1e6:12.1f} {wb * 1e6:14.1f}")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
