"""``LightLLMClient``: chat on LightLLM's native ``/generate`` — we render the chat template and parse tool calls."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from .._exceptions import APIResponseValidationError
from ._client import (
    BaseClient,
    completion_id,
    normalize_messages,
    normalize_tools,
    tool_choice_name,
    with_call_arguments,
)
from ._parsers import parse_tool_calls
from ._reasoning import reasoning_tags, split_reasoning
from ._template import ChatTemplate, neutralize
from ._transport import ResponseLimits
from ._types import ChatCompletion, ChatCompletionMessage, Choice, CompletionUsage

__all__ = ["LightLLMClient", "split_reasoning"]


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
        tool_parser: How tool calls are written (qwen25, llama3, mistral, qwen3_coder, deepseekv3,
            deepseekv31, deepseekv32, kimi_k2, glm45, glm47); default: read from the template.
        reasoning_format: "auto" (from the template), "think", "kimi" or "none".
        calls_in_reasoning: "ignore" (default) or "recover" (use calls written inside the
            reasoning when the answer after it has none).
        template_variables: Extra template variables (e.g. ``bos_token``, ``enable_thinking``).
        fetch_images / allowed_image_dirs: how image inputs are resolved (see README).
    """

    def __init__(self, base_url: str | Iterable[str] | None = None, api_key: str | None = None, timeout: Any = 600.0,
                 max_retries: int = 2, chat_template: Any = None, tool_parser: str | None = None, *,
                 reasoning_format: str = "auto", calls_in_reasoning: str = "ignore",
                 template_variables: Mapping[str, Any] | None = None, verify: Any = True,
                 limits: ResponseLimits | None = None, headers: Mapping[str, str] | None = None,
                 session: Any = None, http_adapter: Any = None, pool_maxsize: int | None = None,
                 fetch_images: bool = False, allowed_image_dirs: Iterable[Any] | None = None,
                 max_image_bytes: int = 20 * 1024 * 1024, image_timeout: float = 10.0,
                 allow_private_image_hosts: bool | Iterable[str] = False, trust_tool_output: bool = False,
                 neutralize_user_content: bool = False) -> None:
        super().__init__(base_url, api_key, timeout, max_retries, tool_parser=tool_parser, verify=verify,
                         limits=limits, headers=headers, session=session, http_adapter=http_adapter,
                         pool_maxsize=pool_maxsize)
        self.chat_template = _as_template(chat_template)
        self.template_variables = dict(template_variables or {})
        detected = self.chat_template.detect()
        if tool_parser is None:
            self.tool_parser, why = detected["tool_parser"]
            self.chosen["tool_parser"] = f"from the template: {why}"
        self.reasoning_format = _reasoning_format(reasoning_format)
        self.chosen["reasoning_format"] = "given" if reasoning_format != "auto" else \
            f"from the template: {detected['reasoning_format'][1]}"
        if reasoning_format == "auto":
            self.reasoning_format = detected["reasoning_format"][0]
        self.calls_in_reasoning = _calls_in_reasoning(calls_in_reasoning)
        self.arguments_as_text = detected["arguments"][0] == "string"
        self.chosen["arguments"] = detected["arguments"][1]
        from ._images import ImagePolicy

        # images are fetched with a session of their own: no credentials, cookies or proxy auth of the client
        self.images = ImagePolicy(fetch=fetch_images, allowed_dirs=allowed_image_dirs, max_bytes=max_image_bytes,
                                  timeout=image_timeout, verify=verify, allow_private_hosts=allow_private_image_hosts)
        self.trust_tool_output = trust_tool_output
        self.neutralize_user_content = neutralize_user_content
        self._kwargs.update(chat_template=self.chat_template, template_variables=self.template_variables,
                            reasoning_format=reasoning_format, calls_in_reasoning=calls_in_reasoning,
                            fetch_images=fetch_images, allowed_image_dirs=list(allowed_image_dirs or ()),
                            max_image_bytes=max_image_bytes, image_timeout=image_timeout,
                            allow_private_image_hosts=allow_private_image_hosts,
                            trust_tool_output=trust_tool_output, neutralize_user_content=neutralize_user_content)

    def _extra_config(self) -> dict[str, Any]:
        return {"chat_template": self.chat_template.name, "reasoning_format": self.reasoning_format,
                "calls_in_reasoning": self.calls_in_reasoning}

    # -- request ---------------------------------------------------------------------------------

    def render(self, messages: Iterable[Any], tools: Iterable[Any] | None = None, tool_choice: Any = None,
               **variables: Any) -> str:
        """The exact ``inputs`` text ``create()`` sends to ``/generate`` for these messages and tools."""
        prompt, _ = self._prompt(normalize_messages(messages), normalize_tools(tools), tool_choice, variables)
        return prompt

    def count_tokens(self, messages: Iterable[Any], tools: Iterable[Any] | None = None) -> int:
        """The exact prompt tokens of these messages and tools: the rendered prompt counted by
        LightLLM's ``/tokens`` (its tokenizer; images add their tokens).

        Raises:
            APIError: the server could not count.
        """
        prompt, images = self._prompt(normalize_messages(messages), normalize_tools(tools), None, {})
        body: dict[str, Any] = {"text": prompt, "parameters": {"add_special_tokens": False}}
        if images:
            body["multimodal_params"] = {"images": images}
        data = self._transport.post_json("/tokens", body)
        if not isinstance(data, dict) or not isinstance(data.get("ntokens"), int):
            raise APIResponseValidationError("the /tokens answer has no ntokens", body=data)
        return int(data["ntokens"])

    def _prompt(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, tool_choice: Any,
                variables: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        shown = tools
        if tool_choice == "none":
            shown = None
        elif tools and (wanted := tool_choice_name(tool_choice)):
            shown = [t for t in tools if t["function"].get("name") == wanted]
            if not shown:
                raise ValueError(f"tool_choice names {wanted!r}, which is not among the tools given")
        images: list[dict[str, Any]] = []
        prepared = [self._template_message(m, images) for m in messages]
        prompt = self.chat_template.render(prepared, tools=shown or None, add_generation_prompt=True,
                                           **{**self.template_variables, **variables})
        return prompt, images

    def _template_message(self, message: dict[str, Any], images: list[dict[str, str]]) -> dict[str, Any]:
        """What a template expects: arguments as objects (not JSON strings), content never None,
        reasoning as ``reasoning_content``, and untrusted text unable to forge turns."""
        out = dict(message)
        content = out.get("content")
        if content is None:
            out["content"] = ""
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and part.get("type") in ("image_url", "image"):
                    images.append(self.images.resolve(part))
        role = out.get("role")
        if (role == "tool" and not self.trust_tool_output) or (role == "user" and self.neutralize_user_content):
            out["content"] = self._neutralized(out["content"])
        if role == "assistant" and out.get("reasoning") and "reasoning_content" not in out:
            out["reasoning_content"] = out["reasoning"]  # the name Qwen3/QwQ/GLM templates read
        return with_call_arguments(out, _as_text if self.arguments_as_text else _decoded)

    def _neutralized(self, content: Any) -> Any:
        specials = self.chat_template.special_strings
        if isinstance(content, str):
            return neutralize(content, specials)
        if isinstance(content, list):
            return [{**part, "text": neutralize(part["text"], specials)}
                    if isinstance(part, Mapping) and isinstance(part.get("text"), str) else part for part in content]
        return content

    def _body(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, tool_choice: Any,
              params: dict[str, Any], extra_body: dict[str, Any]) -> tuple[dict[str, Any], str, list[dict[str, Any]] | None]:
        params = dict(params)
        variables = params.pop("chat_template_kwargs", None) or {}
        prompt, images = self._prompt(messages, tools, tool_choice, variables)
        parameters: dict[str, Any] = {}
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
        body: dict[str, Any] = {"inputs": prompt, "parameters": parameters}
        if images:
            body["multimodal_params"] = {"images": images}
        body.update(extra_body)
        parse_tools = None if tool_choice == "none" else tools
        return body, prompt, parse_tools

    def _create(self, *, messages: list[dict[str, Any]], model: str | None, tools: list[dict[str, Any]] | None,
                tool_choice: Any, stream: bool, params: dict[str, Any], extra_body: dict[str, Any]) -> Any:
        body, prompt, parse_tools = self._body(messages, tools, tool_choice, params, extra_body)
        tags = reasoning_tags(self.reasoning_format)
        opened_think = tags is not None and prompt.rstrip().endswith(tags[0])
        if stream:
            from ._stream import Stream, native_chunks

            if body["parameters"].get("best_of", 1) != 1:
                raise ValueError("LightLLM streams only one choice: n must be 1 with stream=True")
            response = self._transport.send("POST", "/generate_stream", body)
            return Stream(native_chunks(self._transport, response, model=model or "default",
                                        parser=self.tool_parser if parse_tools else None, tools=parse_tools,
                                        opened_think=opened_think, reasoning_format=self.reasoning_format,
                                        recover_calls=self.calls_in_reasoning == "recover"), response)
        data = self._transport.post_json("/generate", body)
        return self._completion(data, model, parse_tools, opened_think)

    # -- response --------------------------------------------------------------------------------

    def _completion(self, data: Any, model: str | None, tools: list[dict[str, Any]] | None, opened_think: bool) -> ChatCompletion:
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
            reasoning, text = split_reasoning(text, opened_think, self.reasoning_format, finish[i])
            if tools:
                content, calls = parse_tool_calls(text, self.tool_parser, tools=tools)
                if not calls and reasoning and self.calls_in_reasoning == "recover":
                    _, calls = parse_tool_calls(reasoning, self.tool_parser, tools=tools)
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
        return ChatCompletion(id=completion_id(), object="chat.completion", created=int(time.time()),
                              model=model or "default", choices=choices, usage=usage)


def _reasoning_format(value: str) -> str:
    reasoning_tags(value)  # ValueError for an unknown format
    return value


def _calls_in_reasoning(value: str) -> str:
    if value not in ("ignore", "recover"):
        raise ValueError(f"calls_in_reasoning must be 'ignore' or 'recover', got {value!r}")
    return value


def _as_text(arguments: Any) -> Any:
    """Arguments as the JSON text a template concatenates (DeepSeek)."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False)


def _decoded(arguments: Any) -> Any:
    """JSON-string arguments as the object a template prints (the Qwen templates would encode them twice)."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except (ValueError, RecursionError):
            pass  # not JSON (or too deep to read): the template shows it as it is
    return arguments


def _per_choice(value: Any, n: int) -> list[Any]:
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
