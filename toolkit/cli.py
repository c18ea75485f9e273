"""The ``toolkit`` command: inspect, render, run, health."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import pathlib
import sys
from collections.abc import Sequence
from typing import Any

from ._exceptions import ToolkitError
from .tool import Tool

__all__ = ["main"]


def load_tools(target: str) -> list[Tool]:
    """Every ``@tool`` defined at the top level of a Python file or an importable module."""
    path = pathlib.Path(target)
    if path.suffix == ".py" or path.is_file():
        if not path.is_file():
            raise ToolkitError(f"no such file: {target}")
        spec = importlib.util.spec_from_file_location(f"_toolkit_cli_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ToolkitError(f"cannot load {target} as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        sys.path.insert(0, str(path.resolve().parent))
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ToolkitError(f"cannot import {target!r}: {exc}") from exc
    tools = module_tools(module)
    if not tools:
        raise ToolkitError(f"{target} defines no @tool functions at its top level")
    return tools


def module_tools(module: Any) -> list[Tool]:
    """The module's top-level tools, and the tool methods of its top-level instances
    (``store = Store()`` gives ``store.stock``); methods taken from a class are skipped."""
    tools: list[Tool] = []
    for value in vars(module).values():
        if isinstance(value, Tool):
            if not (value._binding == "instance" and value._bound is None):
                tools.append(value)
        elif not isinstance(value, type) and type(value).__module__ == module.__name__:
            for name, attribute in vars(type(value)).items():
                if isinstance(attribute, Tool) and not name.startswith("_"):
                    tools.append(getattr(value, name))
    return tools


def warnings_for(tool: Tool) -> list[str]:
    out = []
    if not tool.description:
        out.append("no description (add a docstring)")
    for name, prop in tool.parameters.get("properties", {}).items():
        if "description" not in prop:
            out.append(f"parameter {name!r} is undocumented")
        if not {k: v for k, v in prop.items() if k not in ("description", "default")}:
            out.append(f"parameter {name!r} accepts any value (no type hint)")
    return out


def _client(args: argparse.Namespace) -> Any:
    from .client import LightLLMClient, OpenAICompatibleClient

    if getattr(args, "api", "generate") == "openai":
        if getattr(args, "template", None):
            raise ToolkitError("--template only applies to --api generate (the /v1 server renders its own "
                               "template); drop one of them")
        return OpenAICompatibleClient(base_url=args.base_url, tool_parser=args.tool_parser,
                                      reasoning_format=getattr(args, "reasoning_format", "think"))
    return LightLLMClient(base_url=getattr(args, "base_url", None), chat_template=getattr(args, "template", None),
                          tool_parser=getattr(args, "tool_parser", None),
                          reasoning_format=getattr(args, "reasoning_format", "auto"))


def cmd_inspect(args: argparse.Namespace) -> int:
    for t in load_tools(args.target):
        print(json.dumps(t.schema, indent=2, ensure_ascii=False))
        for warning in warnings_for(t):
            print(f"warning: {t.name}: {warning}", file=sys.stderr)
    return 0


def _messages(args: argparse.Namespace) -> list[dict[str, Any]]:
    messages = [{"role": "system", "content": args.system}] if args.system else []
    return messages + [{"role": "user", "content": args.prompt}]


def cmd_render(args: argparse.Namespace) -> int:
    tools = load_tools(args.target)
    client = _client(args)
    if args.explain:
        config = client.config
        print(f"template: {config['chat_template']}", file=sys.stderr)
        for key in ("tool_parser", "reasoning_format"):
            print(f"{key}: {config[key]} ({config['chosen'].get(key, 'given')})", file=sys.stderr)
        print(f"tool-call arguments passed to the template as: {'JSON text' if client.arguments_as_text else 'objects'}"
              f" ({config['chosen']['arguments']})", file=sys.stderr)
    sys.stdout.write(client.render(_messages(args), tools=tools))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ._loop import iter_run

    tools = load_tools(args.target)
    sampling = {k: v for k, v in (("temperature", args.temperature), ("max_tokens", args.max_tokens))
                if v is not None}
    printer = _Printer(sys.stdout, show_reasoning=args.show_reasoning)
    with _client(args) as client:
        for event in iter_run(_messages(args), tools, client=client, model=args.model, max_steps=args.max_steps,
                              stream=True, **sampling):
            printer.show(event)
    return 0


class _Printer:
    """Events of a streamed run, as a person reads them: the answer as it is written, one line
    per tool call and per result, reasoning dimmed (or hidden unless ``--show-reasoning``)."""

    def __init__(self, out: Any, *, show_reasoning: bool) -> None:
        self.out = out
        self.show_reasoning = show_reasoning
        self.dim = bool(getattr(out, "isatty", lambda: False)())
        self.line_open = False
        self.in_reasoning = False

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
        self.line_open = not text.endswith("\n")

    def _end_line(self) -> None:
        if self.in_reasoning:
            self._write("\x1b[0m" if self.dim else "")
            self.in_reasoning = False
        if self.line_open:
            self._write("\n")

    def show(self, event: Any) -> None:
        kind = event.type
        if kind == "reasoning_delta" and self.show_reasoning:
            if not self.in_reasoning:
                self._end_line()
                self._write("\x1b[2m" if self.dim else "(reasoning) ")
                self.in_reasoning = True
            self._write(event.text)
        elif kind == "text_delta":
            if self.in_reasoning:
                self._end_line()
            self._write(event.text)
        elif kind == "tool_call":
            self._end_line()
            self._write(f"-> {event.name}({event.arguments})\n")
        elif kind == "tool_result":
            content = event.record.content
            shown = content if len(content) < 300 else content[:297] + "..."
            self._write(f"<- {event.record.name}: {shown}\n")
        elif kind == "final":
            self._end_line()
            result = event.result
            if result.output and not result.messages[-1].get("content"):
                self._write(f"{result.output}\n")
            if result.stop_reason not in ("stop", "output"):
                print(f"(stopped: {result.stop_reason})", file=sys.stderr)


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole loop offline: a scripted model on the shipped test server, over real HTTP."""
    from .client import LightLLMClient
    from .testing import LightLLMTestServer, scripted_model
    from .testing._demo import DEMO_TOOLS

    tools = load_tools(args.target) if args.target else list(DEMO_TOOLS)
    prompt = args.prompt or "Use the tools and tell me what they say."
    with LightLLMTestServer() as server:
        server.script([scripted_model(tools)] * 2)
        print(f"[scripted model] a local LightLLM-protocol test server at {server.base_url} plays the model: it "
              f"calls each tool once with example arguments from its schema, then answers. No GPU, no network.")
        print(f"user: {prompt}")
        printer = _Printer(sys.stdout, show_reasoning=False)
        seen = 0
        with LightLLMClient(base_url=server.base_url, max_retries=0) as client:
            for event in iter_run_for_demo(prompt, tools, client):
                for request in server.posts[seen:]:
                    print(f"> request: POST {request.path} ({len(request.body['inputs'])} characters of "
                          f"prompt, {len(tools)} tool(s) rendered by the chat template)")
                seen = len(server.posts)
                printer.show(event)
                if event.type == "final":
                    result = event.result
                    print(f"(done: stop_reason={result.stop_reason}, {result.steps} model calls, "
                          f"{result.usage.total_tokens} tokens, {len(result.tool_calls)} tool calls)")
    return 0


def iter_run_for_demo(prompt: str, tools: list[Tool], client: Any) -> Any:
    from ._loop import iter_run

    return iter_run(prompt, tools, client=client, stream=True, max_steps=3)


def cmd_serve(args: argparse.Namespace) -> int:
    from .mcp import serve

    tools = load_tools(args.target)
    print(f"toolkit serve: {len(tools)} tool(s) over MCP ({args.transport}"
          + (f", http://{args.host}:{args.port}/mcp" if args.transport == "http" else "") + ")", file=sys.stderr)
    serve(tools, name=pathlib.Path(args.target).stem, transport=args.transport, host=args.host, port=args.port)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    """Many conversations from a JSONL file; one result line per input, resumable."""
    import threading

    from ._loop import run_many

    tools = load_tools(args.target)
    inputs = _batch_inputs(pathlib.Path(args.prompts))
    out = pathlib.Path(args.out)
    done = _done_indices(out)
    todo = [(i, item) for i, item in enumerate(inputs) if i not in done]
    total = len(inputs)
    if done:
        print(f"batch: {len(done)} already done in {out}", file=sys.stderr)
    lock = threading.Lock()
    counts = {"done": len(done), "failed": 0}
    executor = None
    if args.scheduler:
        import distributed

        executor = distributed.Client(args.scheduler).get_executor()  # type: ignore[no-untyped-call]
    with out.open("a", encoding="utf-8") as sink, _client(args) as client:
        def on_result(position: int, outcome: Any) -> None:
            index = todo[position][0]
            line = _result_line(index, outcome)
            with lock:
                sink.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
                sink.flush()
                counts["done"] += 1
                counts["failed"] += line["error"] is not None
                print(f"\rbatch: {counts['done']}/{total} ({counts['failed']} failed)", end="", file=sys.stderr,
                      flush=True)

        if todo:
            run_many([item for _, item in todo], tools, client=client, max_workers=args.workers,
                     return_exceptions=True, on_result=on_result, executor=executor, max_steps=args.max_steps)
    print(f"\rbatch: {counts['done']}/{total} ({counts['failed']} failed) -> {out}", file=sys.stderr)
    return 0 if counts["failed"] == 0 else 1


def _batch_inputs(path: pathlib.Path) -> list[Any]:
    inputs: list[Any] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise ToolkitError(f"{path}:{number}: not JSON ({exc})") from None
        if isinstance(value, dict):
            value = value.get("messages") or value.get("prompt")
        if not isinstance(value, (str, list)) or not value:
            raise ToolkitError(f"{path}:{number}: a line is a prompt string, a list of messages, or "
                               f"{{\"messages\": [...]}} / {{\"prompt\": \"...\"}}")
        inputs.append(value)
    return inputs


def _done_indices(out: pathlib.Path) -> set[int]:
    if not out.exists():
        return set()
    done = set()
    for line in out.read_text(encoding="utf-8").splitlines():
        try:
            done.add(int(json.loads(line)["index"]))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut off by an earlier crash: that input runs again
    return done


def _result_line(index: int, outcome: Any) -> dict[str, Any]:
    result = getattr(outcome, "result", None) if isinstance(outcome, BaseException) else outcome
    line: dict[str, Any] = {"index": index, "output": None, "stop_reason": "error", "tool_calls": [], "usage": None,
                            "error": f"{type(outcome).__name__}: {outcome}" if isinstance(outcome, BaseException)
                            else None}
    if result is not None:
        line.update(output=result.output if outcome is result else None, stop_reason=result.stop_reason
                    if outcome is result else "error",
                    tool_calls=[{"name": r.name, "arguments": r.raw_arguments, "error": r.error}
                                for r in result.tool_calls],
                    usage={"prompt_tokens": result.usage.prompt_tokens,
                           "completion_tokens": result.usage.completion_tokens,
                           "total_tokens": result.usage.total_tokens})
    return line


def cmd_health(args: argparse.Namespace) -> int:
    from .client import LightLLMClient

    with LightLLMClient(base_url=args.base_url) as client:
        report = client.health_by_endpoint()
    for url, healthy in report.items():  # each server of a fleet (comma-separated --base-url)
        print(f"{url}: {'ok' if healthy else 'unhealthy or unreachable'}")
    return 0 if all(report.values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description="Give a self-hosted LLM (LightLLM) real tools.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"toolkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="show the schema of every @tool in a file or module")
    p.add_argument("target", help="a .py file or an importable module")
    p.set_defaults(func=cmd_inspect)

    for name, func, help_text in (("render", cmd_render, "print the exact /generate prompt (offline)"),
                                  ("run", cmd_run, "run the tool-calling loop against a server")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("target", help="a .py file or an importable module holding @tool functions")
        p.add_argument("prompt")
        p.add_argument("--system", default=None, help="a system message")
        p.add_argument("--template", default=None, help="chat template (.jinja, tokenizer_config.json, model dir)")
        p.add_argument("--tool-parser", default=None,
                       help="the tool-call format (default: read from the template; qwen25 for the default template)")
        p.add_argument("--reasoning-format", default="auto", choices=("auto", "think", "kimi", "none"))
        if name == "render":
            p.add_argument("--explain", action="store_true", help="say which format and settings were chosen, and why")
        if name == "run":
            p.add_argument("--base-url", default=None, help="server URL (default: LIGHTLLM_BASE_URL or localhost:8000)")
            p.add_argument("--api", choices=("generate", "openai"), default="generate")
            p.add_argument("--model", default=None)
            p.add_argument("--max-steps", type=int, default=10, help="most model calls that may use tools")
            p.add_argument("--temperature", type=float, default=None, help="sampling temperature (0: greedy)")
            p.add_argument("--max-tokens", type=int, default=None, help="most tokens per model answer")
            p.add_argument("--show-reasoning", action="store_true", help="print the model's reasoning (dimmed)")
        p.set_defaults(func=func)

    p = sub.add_parser("demo", help="the whole loop offline: a scripted model on a local test server")
    p.add_argument("target", nargs="?", default=None, help="a .py file or module with @tool functions "
                                                               "(default: a built-in get_weather)")
    p.add_argument("prompt", nargs="?", default=None)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="expose every @tool of a file or module as an MCP server")
    p.add_argument("target", help="a .py file or an importable module holding @tool functions")
    p.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("batch", help="run one conversation per line of a JSONL file, resumable")
    p.add_argument("target", help="a .py file or an importable module holding @tool functions")
    p.add_argument("prompts", help="JSONL: a prompt string, a list of messages, or {\"messages\": [...]} per line")
    p.add_argument("--out", required=True, help="JSONL results, one line per input (inputs already there are skipped)")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--scheduler", default=None, help="a Dask scheduler address: run the conversations there")
    p.add_argument("--base-url", default=None)
    p.add_argument("--api", choices=("generate", "openai"), default="generate")
    p.add_argument("--template", default=None)
    p.add_argument("--tool-parser", default=None)
    p.add_argument("--max-steps", type=int, default=10)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("health", help="check that the server (each server of a fleet) answers")
    p.add_argument("--base-url", default=None, help="a URL, or several separated by commas")
    p.set_defaults(func=cmd_health)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ToolkitError, ValueError, OSError) as exc:
        print(f"toolkit {args.command}: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
