"""The two clients: ``LightLLMClient`` (native ``/generate``) and ``OpenAICompatibleClient``.

Both answer ``client.chat.completions.create(...)`` with the same OpenAI-shaped
``ChatCompletion``. Parameters not given are not sent, so the server's (model's) defaults apply.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, Iterable, Mapping

from .._exceptions import APIResponseValidationError
from ._parsers import collect, decode_string_arguments, get_parser
from ._template import ChatTemplate
from ._transport import Limits, Transport
from ._types import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    CompletionUsage,
    Function,
    new_call_id,
)

__all__ = ["LightLLMClient", "OpenAICompatibleClient"]

# Sampling parameters of create(): name -> (kind, check, what the check means)
_INT, _FLOAT = "integer", "number"
_PARAMS: dict[str, tuple[str, Any, str]] = {
    "temperature": (_FLOAT, lambda v: v >= 0, ">= 0"),
    "top_p": (_FLOAT, lambda v: 0 < v <= 1, "in (0, 1]"),
    "top_k": (_INT, lambda v: v == -1 or v >= 1, "-1 (off) or >= 1"),
    "max_tokens": (_INT, lambda v: v >= 1, ">= 1"),
    "max_completion_tokens": (_INT, lambda v: v >= 1, ">= 1"),
    "presence_penalty": (_FLOAT, lambda v: v >= 0, ">= 0"),
    "frequency_penalty": (_FLOAT, lambda v: v >= 0, ">= 0"),
    "repetition_penalty": (_FLOAT, lambda v: v >= 1, ">= 1"),
    "seed": (_INT, lambda v: -1 <= v <= 2 ** 63 - 1, "in -1 ... 2**63-1"),
    "n": (_INT, lambda v: 1 <= v <= 8, "in 1 ... 8"),
}
MAX_STOP_SEQUENCES = 10


def check_params(params: Mapping[str, Any]) -> dict:
    """Validate sampling parameters where LightLLM would answer 417/500; drop the unset ones.

    Raises:
        ValueError: with the parameter, the value and what is allowed.
    """
    out = {}
    for name, value in params.items():
        if name not in _PARAMS:
            if name == "stop":
                out[name] = _check_stop(value)
            elif value is not None:
                out[name] = value
            continue
        if value is None:
            raise ValueError(f"{name}=None would make LightLLM fail (HTTP 500); omit {name} to use the server's "
                             f"default instead")
        kind, check, allowed = _PARAMS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a {kind}, got {type(value).__name__} {value!r}")
        if kind == _INT and not isinstance(value, int):
            raise ValueError(f"{name} must be an integer (LightLLM rejects {value!r}); got a float")
        if not check(value):
            raise ValueError(f"{name} must be {allowed}, got {value!r}")
        out[name] = value
    return out


def _check_stop(stop: Any) -> list[str] | None:
    if stop is None:
        return None
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, (list, tuple)) or not all(isinstance(s, str) for s in stop):
        raise ValueError(f"stop must be a string or a list of strings, got {stop!r}")
    stop = [s for s in stop if s]
    if len(stop) > MAX_STOP_SEQUENCES:
        raise ValueError(f"LightLLM accepts at most {MAX_STOP_SEQUENCES} stop sequences, got {len(stop)}")
    for s in stop:
        if len(s.encode("utf-8")) >= 256:
            raise ValueError(f"stop sequences must be shorter than 256 bytes: {s[:30]!r}...")
    return stop


def normalize_tools(tools: Iterable[Any] | None) -> list[dict] | None:
    """Tools as OpenAI dicts: ``Tool`` objects, plain callables (made tools) or dicts."""
    if tools is None:
        return None
    out = []
    for item in tools:
        schema = getattr(item, "schema", None)
        if isinstance(schema, dict) and schema.get("type") == "function":
            out.append(schema)
        elif isinstance(item, Mapping):
            if "function" in item:
                out.append({"type": item.get("type", "function"), "function": dict(item["function"])})
            elif "name" in item:
                out.append({"type": "function", "function": dict(item)})
            else:
                raise ValueError(f"a tool dict needs 'function' (OpenAI form) or 'name', got keys {sorted(item)}")
        elif callable(item):
            from ..tool import Tool

            out.append(Tool(item).schema)
        else:
            raise ValueError(f"tools must be Tool objects, callables or dicts, got {type(item).__name__}")
    return out


def normalize_messages(messages: Iterable[Any]) -> list[dict]:
    """Messages as plain dicts (response objects are turned back into their wire form)."""
    if isinstance(messages, (str, bytes)) or messages is None:
        raise ValueError("messages must be a list of {'role': ..., 'content': ...} dicts")
    out = []
    for message in messages:
        if hasattr(message, "to_dict"):
            message = message.to_dict()
        if not isinstance(message, Mapping) or "role" not in message:
            raise ValueError(f"each message needs a 'role', got {message!r:.80}")
        out.append(dict(message))
    if not out:
        raise ValueError("messages is empty: give at least one message")
    return out


def _tool_choice_name(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function") or {}
        return function.get("name") or tool_choice.get("name")
    return None


class _Completions:
    def __init__(self, client: "BaseClient") -> None:
        self._client = client

    def create(self, *, messages: Iterable[Any], model: str | None = None, tools: Iterable[Any] | None = None,
               tool_choice: Any = None, stream: bool = False, extra_body: Mapping[str, Any] | None = None,
               **params: Any) -> Any:
        """Create a chat completion (``stream=True``: a ``Stream`` of chunks).

        Args:
            messages: OpenAI-style messages (dicts, or messages from an earlier response).
            model: The model name (LightLLM echoes it).
            tools: ``Tool`` objects, plain callables or OpenAI tool dicts.
            tool_choice: "auto", "none", "required" or ``{"type": "function", "function": {"name": ...}}``.
            stream: Stream the answer as chunks.
            extra_body: Extra fields sent as they are.
            **params: temperature, top_p, top_k, max_tokens, stop, presence_penalty,
                frequency_penalty, repetition_penalty, seed, n; anything else is passed through.

        Raises:
            ValueError: a parameter the server would reject (too many stops, None values...).
            APIError: the request failed (see the exception tree).
        """
        return self._client._create(messages=normalize_messages(messages), model=model,
                                    tools=normalize_tools(tools), tool_choice=tool_choice, stream=stream,
                                    params=check_params(params), extra_body=dict(extra_body or {}))


class _Chat:
    def __init__(self, client: "BaseClient") -> None:
        self.completions = _Completions(client)


class BaseClient:
    """What both clients share: transport, ``chat.completions.create``, ``health``, ``close``."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, timeout: Any = 600.0,
                 max_retries: int = 2, *, tool_parser: str = "qwen25", verify: Any = True,
                 limits: Limits | None = None, headers: dict | None = None) -> None:
        self._transport = Transport(base_url, api_key, timeout=timeout, max_retries=max_retries, verify=verify,
                                    limits=limits, headers=headers)
        get_parser(tool_parser)  # fail early on an unknown name
        self.tool_parser = tool_parser
        self.chat = _Chat(self)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    @property
    def timeout(self) -> Any:
        return self._transport.timeout

    def health(self) -> bool:
        """``GET /health``: True when the server answers 2xx; False when it is down or unhealthy."""
        try:
            response = self._transport.session.get(self.base_url + "/health", verify=self._transport.verify,
                                                   timeout=(self._transport.timeout.connect, 30.0))
        except Exception:
            return False
        try:
            return response.status_code < 300
        finally:
            response.close()

    def models(self) -> list[str]:
        """Model ids from ``GET /v1/models``."""
        data = self._transport.get_json("/v1/models")
        return [m.get("id") for m in data.get("data", []) if isinstance(m, dict)]

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "BaseClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "***" if self._transport._api_key else None
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key})"

    def _create(self, **kwargs: Any) -> Any:
        raise NotImplementedError


def _completion_id() -> str:
    return "chatcmpl-" + secrets.token_hex(16)


def split_reasoning(text: str, prompt_opened_think: bool) -> tuple[str | None, str]:
    """``<think>...</think>`` at the start of an answer (or after a prompt that opened it) -> reasoning."""
    stripped = text.lstrip()
    if stripped.startswith("<think>"):
        body = stripped[len("<think>"):]
    elif prompt_opened_think:
        body = text
    else:
        return None, text
    reasoning, sep, rest = body.partition("</think>")
    if not sep:  # the answer never left its reasoning (cut off, or the model forgot to close)
        return reasoning.strip() or None, ""
    return reasoning.strip() or None, rest.lstrip("\n")


class LightLLMClient(BaseClient):
    """Chat on LightLLM's native ``/generate``: we render the chat template and parse tool calls.

    Args:
        base_url: Server URL (default: env ``LIGHTLLM_BASE_URL``, then http://localhost:8000).
        api_key: Sent as a Bearer header for proxies (default: env ``LIGHTLLM_API_KEY``);
            LightLLM itself ignores it. Never shown in reprs, logs or errors.
        timeout: Read timeout in seconds, or ``(connect, read)``; connect defaults to 10 s.
        max_retries: Retries on connection errors, 408, 429, 502, 503 and 504.
        chat_template: A ``ChatTemplate``, template source, or a path (``.jinja``,
            ``tokenizer_config.json``, ``chat_template.json`` or a model directory). Default:
            toolkit's Qwen2.5-style template.
        tool_parser: How tool calls are written: qwen25 (hermes), llama3, mistral, qwen3_coder.
        template_variables: Extra template variables (e.g. ``bos_token``, ``enable_thinking``).
        fetch_images / allowed_image_dirs: how image inputs are resolved (see README).
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, timeout: Any = 600.0,
                 max_retries: int = 2, chat_template: Any = None, tool_parser: str = "qwen25", *,
                 template_variables: Mapping[str, Any] | None = None, verify: Any = True,
                 limits: Limits | None = None, headers: dict | None = None, fetch_images: bool = False,
                 allowed_image_dirs: Iterable[Any] | None = None, max_image_bytes: int = 20 * 1024 * 1024,
                 image_timeout: float = 10.0) -> None:
        super().__init__(base_url, api_key, timeout, max_retries, tool_parser=tool_parser, verify=verify,
                         limits=limits, headers=headers)
        self.chat_template = _as_template(chat_template)
        self.template_variables = dict(template_variables or {})
        from ._images import ImagePolicy

        self.images = ImagePolicy(fetch=fetch_images, allowed_dirs=allowed_image_dirs, max_bytes=max_image_bytes,
                                  timeout=image_timeout, session=self._transport.session, verify=verify)

    # -- request ---------------------------------------------------------------------------------

    def render(self, messages: Iterable[Any], tools: Iterable[Any] | None = None, tool_choice: Any = None,
               **variables: Any) -> str:
        """The exact ``inputs`` text ``create()`` sends to ``/generate`` for these messages and tools."""
        prompt, _ = self._prompt(normalize_messages(messages), normalize_tools(tools), tool_choice, variables)
        return prompt

    def _prompt(self, messages: list[dict], tools: list[dict] | None, tool_choice: Any,
                variables: Mapping[str, Any]) -> tuple[str, list[dict]]:
        shown = tools
        if tool_choice == "none":
            shown = None
        elif _tool_choice_name(tool_choice) and tools:
            wanted = _tool_choice_name(tool_choice)
            shown = [t for t in tools if t["function"].get("name") == wanted]
            if not shown:
                raise ValueError(f"tool_choice names {wanted!r}, which is not among the tools given")
        images: list[dict] = []
        prepared = [self._template_message(m, images) for m in messages]
        prompt = self.chat_template.render(prepared, tools=shown or None, add_generation_prompt=True,
                                           **{**self.template_variables, **variables})
        return prompt, images

    def _template_message(self, message: dict, images: list) -> dict:
        """What a template expects: arguments as objects (not JSON strings), content never None."""
        out = dict(message)
        content = out.get("content")
        if content is None:
            out["content"] = ""
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and part.get("type") in ("image_url", "image"):
                    images.append(self.images.resolve(part))
        calls = out.get("tool_calls")
        if calls:
            fixed = []
            for call in calls:
                call = dict(call.to_dict() if hasattr(call, "to_dict") else call)
                function = dict(call.get("function") or {})
                arguments = function.get("arguments")
                if isinstance(arguments, str):
                    try:
                        function["arguments"] = json.loads(arguments)
                    except ValueError:
                        pass  # not JSON: the template shows it as it is
                call["function"] = function
                fixed.append(call)
            out["tool_calls"] = fixed
        return out

    def _body(self, messages, tools, tool_choice, params, extra_body) -> tuple[dict, str, list[dict] | None]:
        params = dict(params)
        variables = params.pop("chat_template_kwargs", None) or {}
        prompt, images = self._prompt(messages, tools, tool_choice, variables)
        parameters: dict = {}
        for ours, theirs in (("max_tokens", "max_new_tokens"), ("max_completion_tokens", "max_new_tokens"),
                             ("stop", "stop_sequences")):
            if ours in params and params[ours] is not None:
                parameters[theirs] = params.pop(ours)
            params.pop(ours, None)
        if "n" in params:
            parameters["n"] = parameters["best_of"] = params.pop("n")
        sampling = [k for k in ("temperature", "top_p", "top_k") if k in params]
        if sampling:
            parameters["do_sample"] = params.get("temperature", 1) != 0
            if params.get("temperature") == 0:
                params.pop("temperature")  # greedy: LightLLM wants temperature > 0 when sampling
        parameters.update(params)
        parameters.update(extra_body.pop("parameters", {}))
        body: dict = {"inputs": prompt, "parameters": parameters}
        if images:
            body["multimodal_params"] = {"images": images}
        body.update(extra_body)
        parse_tools = None if tool_choice == "none" else tools
        return body, prompt, parse_tools

    def _create(self, *, messages, model, tools, tool_choice, stream, params, extra_body):
        body, prompt, parse_tools = self._body(messages, tools, tool_choice, params, extra_body)
        opened_think = prompt.rstrip().endswith("<think>")
        if stream:
            from ._stream import Stream, native_chunks

            if body["parameters"].get("best_of", 1) != 1:
                raise ValueError("LightLLM streams only one choice: n must be 1 with stream=True")
            response = self._transport.send("POST", "/generate_stream", body, stream=True)
            return Stream(native_chunks(self._transport, response, model=model or "default",
                                        parser=self.tool_parser if parse_tools else None, tools=parse_tools,
                                        opened_think=opened_think), response)
        data = self._transport.post_json("/generate", body)
        return self._completion(data, model, parse_tools, opened_think)

    # -- response --------------------------------------------------------------------------------

    def _completion(self, data: Any, model: str | None, tools: list[dict] | None, opened_think: bool) -> ChatCompletion:
        if not isinstance(data, dict) or not isinstance(data.get("generated_text"), list):
            raise APIResponseValidationError("the /generate answer has no generated_text list", body=data)
        texts = data["generated_text"]
        n = len(texts)
        finish = _per_choice(data.get("finish_reason"), n)
        counts = _per_choice(data.get("count_output_tokens"), n)
        choices = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise APIResponseValidationError(f"generated_text[{i}] is not a string", body=data)
            reasoning, text = split_reasoning(text, opened_think)
            if tools:
                parser = get_parser(self.tool_parser)(tools)
                content, calls = collect(parser.feed(text) + parser.finish())
            else:
                content, calls = (text or None), []
            reason = finish[i]
            if calls and reason == "stop":
                reason = "tool_calls"
            message = ChatCompletionMessage(role="assistant", content=content, tool_calls=calls or None,
                                            reasoning=reasoning)
            choices.append(Choice(index=i, message=message, finish_reason=reason))
        prompt_tokens = data.get("prompt_tokens") or 0
        completion_tokens = sum(c for c in counts if isinstance(c, int))
        usage = CompletionUsage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                                total_tokens=prompt_tokens + completion_tokens)
        return ChatCompletion(id=_completion_id(), object="chat.completion", created=int(time.time()),
                              model=model or "default", choices=choices, usage=usage)


def _per_choice(value: Any, n: int) -> list:
    """LightLLM sends scalars when n == 1 and lists when n > 1."""
    if isinstance(value, list) and (n > 1 or len(value) == n):
        return (value + [None] * n)[:n]
    return [value] * n


def _as_template(value: Any) -> ChatTemplate:
    if value is None:
        return ChatTemplate.default()
    if isinstance(value, ChatTemplate):
        return value
    if isinstance(value, str) and ("{%" in value or "{{" in value):
        return ChatTemplate(value)
    return ChatTemplate.load(value)


class OpenAICompatibleClient(BaseClient):
    """Chat on ``/v1/chat/completions`` (LightLLM started with ``--tool_call_parser``, vLLM, SGLang...).

    LightLLM's quirks are normalised: numeric ids, ``index: -1``, ``tool_calls: []`` with the
    raw markup left in ``content`` (re-parsed with ``tool_parser``), ``reasoning``, arguments
    encoded twice.
    """

    def _create(self, *, messages, model, tools, tool_choice, stream, params, extra_body):
        body: dict = {"model": model or "default", "messages": [self._wire_message(m) for m in messages]}
        if tools is not None:
            body["tools"] = tools
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
        body.update(params)
        body.update(extra_body)
        parse_tools = None if tool_choice == "none" else tools
        if stream:
            from ._stream import Stream, openai_chunks

            body["stream"] = True
            body.setdefault("stream_options", {"include_usage": True})  # vLLM/SGLang send usage only then
            response = self._transport.send("POST", "/v1/chat/completions", body, stream=True)
            return Stream(openai_chunks(self._transport, response, parser=self.tool_parser, tools=parse_tools),
                          response)
        data = self._transport.post_json("/v1/chat/completions", body)
        return self.normalize(data, parse_tools)

    @staticmethod
    def _wire_message(message: dict) -> dict:
        calls = message.get("tool_calls")
        if not calls:
            return message
        out = dict(message)
        fixed = []
        for call in calls:
            call = dict(call.to_dict() if hasattr(call, "to_dict") else call)
            function = dict(call.get("function") or {})
            if not isinstance(function.get("arguments"), str):  # the server wants a JSON string
                function["arguments"] = json.dumps(function.get("arguments") or {}, ensure_ascii=False)
            call["function"] = function
            call.setdefault("type", "function")
            fixed.append(call)
        out["tool_calls"] = fixed
        return out

    def normalize(self, data: Any, tools: list[dict] | None) -> ChatCompletion:
        """An OpenAI-style answer (with LightLLM's quirks) -> ``ChatCompletion``."""
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise APIResponseValidationError("the chat answer has no choices list", body=data)
        choices = []
        for i, raw in enumerate(data["choices"]):
            if not isinstance(raw, dict) or not isinstance(raw.get("message"), dict):
                raise APIResponseValidationError(f"choices[{i}] has no message", body=data)
            message = raw["message"]
            content = message.get("content")
            if isinstance(content, list):  # content parts
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            calls = [self._tool_call(c) for c in (message.get("tool_calls") or []) if isinstance(c, dict)]
            reason = raw.get("finish_reason")
            if not calls and tools and isinstance(content, str) and _has_marker(content, self.tool_parser):
                parser = get_parser(self.tool_parser)(tools)
                content, calls = collect(parser.feed(content) + parser.finish())
                if calls and reason == "stop":
                    reason = "tool_calls"
            if calls and content == "":
                content = None
            reasoning = message.get("reasoning") or message.get("reasoning_content") or None
            choices.append(Choice(index=raw.get("index", i), finish_reason=reason,
                                  message=ChatCompletionMessage(role=message.get("role") or "assistant",
                                                                content=content, tool_calls=calls or None,
                                                                reasoning=reasoning)))
        usage = data.get("usage")
        return ChatCompletion(id=str(data.get("id") or _completion_id()), object="chat.completion",
                              created=data.get("created") or int(time.time()), model=data.get("model"),
                              choices=choices, usage=CompletionUsage.from_dict(usage) if isinstance(usage, dict) else None)

    @staticmethod
    def _tool_call(raw: dict) -> ChatCompletionMessageToolCall:
        function = raw.get("function") or {}
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            stripped = arguments.strip()
            if stripped.startswith('"'):
                arguments = decode_string_arguments(stripped)  # encoded twice
        elif arguments is None:
            arguments = ""
        else:
            arguments = json.dumps(arguments, ensure_ascii=False)
        call_id = raw.get("id")
        if not isinstance(call_id, str) or not call_id or call_id.lstrip("-").isdigit():
            call_id = new_call_id()
        return ChatCompletionMessageToolCall(id=call_id, type="function",
                                             function=Function(name=function.get("name") or "", arguments=arguments))


def _has_marker(text: str, parser: str) -> bool:
    return any(marker in text for marker in get_parser(parser).markers if marker != "{")

