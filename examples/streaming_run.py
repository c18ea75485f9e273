"""Stream the loop: the answer as it is written, each tool call and result as it happens.

    LIGHTLLM_BASE_URL=http://localhost:8000 python examples/streaming_run.py
"""

from __future__ import annotations

from tools import get_weather

from toolkit import Final, TextDelta, ToolCallStarted, ToolResult, iter_run

if __name__ == "__main__":
    for event in iter_run("Weather in Paris and Rome?", tools=[get_weather], stream=True):
        match event:
            case TextDelta(text=text):
                print(text, end="", flush=True)
            case ToolCallStarted(name=name, arguments=arguments):
                print(f"\n-> {name}({arguments})")
            case ToolResult(record=record):
                print(f"<- {record.name}: {record.content}")
            case Final(result=result):
                print(f"\n[{result.stop_reason}, {result.usage.total_tokens} tokens]")
