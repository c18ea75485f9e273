"""Two tool calls in one answer run at the same time on a thread pool.

    LIGHTLLM_BASE_URL=http://localhost:8000 python examples/parallel_calls.py
"""

from tools import get_weather

from toolkit import run

if __name__ == "__main__":
    result = run("What's the weather in Paris and in Rome? Answer in one sentence.", tools=[get_weather])
    for call in result.tool_calls:
        print(f"{call.name}({call.arguments}) -> {call.content}  [{call.seconds * 1000:.1f} ms]")
    print(result.output)
