"""Stream an answer, tool-call deltas included, then assemble it.

    LIGHTLLM_BASE_URL=http://localhost:8000 python examples/streaming.py
"""

from tools import get_weather

from toolkit import LightLLMClient

if __name__ == "__main__":
    with LightLLMClient() as client:
        messages = [{"role": "user", "content": "What's the weather in Oslo?"}]
        with client.chat.completions.create(messages=messages, tools=[get_weather], stream=True) as stream:
            for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        print(choice.delta.content, end="", flush=True)
                    for call in choice.delta.tool_calls or []:
                        if call.function and call.function.name:
                            print(f"\n[tool call {call.index}: {call.function.name}] ", end="")
                        if call.function and call.function.arguments:
                            print(call.function.arguments, end="", flush=True)
            completion = stream.get_final_completion()
        print("\n", completion.choices[0].message.to_dict())
