"""What both clients share: parameter checks, input normalisation, ``chat.completions.create``.

Parameters not given are not sent, so the server's (model's) defaults apply.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from ._parsers import get_parser

if TYPE_CHECKING:
    from ._stream import Stream
    from ._types import ChatCompletion, ChatCompletionChunk
from ._transport import ResponseLimits, Transport

__all__ = ["BaseClient", "check_params", "normalize_messages", "normalize_tools", "with_call_arguments"]

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
#: Other keywords create() knows and sends as they are (server-specific ones go in ``extra_body``).
PASSTHROUGH_PARAMS = frozenset({"stop", "ignore_eos", "skip_special_tokens", "chat_template_kwargs",
                                "response_format", "guided_json", "guided_grammar", "guided_regex", "logprobs",
                                "top_logprobs", "user", "parallel_tool_calls", "min_tokens", "stream_options"})
#: Every sampling keyword of create() (and so of run()).
SAMPLING_PARAMS = frozenset(_PARAMS) | PASSTHROUGH_PARAMS


def unknown_keyword(where: str, name: str, valid: Iterable[str]) -> TypeError:
    """A TypeError for a keyword nobody knows, naming the closest valid one."""
    import difflib

    close = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"{where} got an unexpected keyword argument {name!r}{hint} (pass server-specific "
                     f"fields in extra_body={{...}})")


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate sampling parameters where LightLLM would answer 417/500; drop the unset ones.

    Raises:
        ValueError: with the parameter, the value and what is allowed.
    """
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in SAMPLING_PARAMS:
            raise unknown_keyword("create()", name, SAMPLING_PARAMS)
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
    return list(stop)


def normalize_tools(tools: Iterable[Any] | None) -> list[dict[str, Any]] | None:
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


def normalize_messages(messages: Iterable[Any]) -> list[dict[str, Any]]:
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


def with_call_arguments(message: dict[str, Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """``message`` with each tool call's ``function.arguments`` passed through ``convert`` (a copy)."""
    calls = message.get("tool_calls")
    if not calls:
        return message
    fixed = []
    for call in calls:
        call = dict(call.to_dict() if hasattr(call, "to_dict") else call)
        function = dict(call.get("function") or {})
        function["arguments"] = convert(function.get("arguments"))
        call["function"] = function
        call.setdefault("type", "function")
        fixed.append(call)
    return {**message, "tool_calls": fixed}


def tool_choice_name(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function") or {}
        return function.get("name") or tool_choice.get("name")
    return None


class _Completions:
    def __init__(self, client: BaseClient) -> None:
        self._client = client

    @overload
    def create(self, *, messages: Iterable[Any], model: str | None = None, tools: Iterable[Any] | None = None,
               tool_choice: Any = None, stream: Literal[False] = False,
               extra_body: Mapping[str, Any] | None = None, **params: Any) -> ChatCompletion: ...

    @overload
    def create(self, *, messages: Iterable[Any], model: str | None = None, tools: Iterable[Any] | None = None,
               tool_choice: Any = None, stream: Literal[True], extra_body: Mapping[str, Any] | None = None,
               **params: Any) -> Stream[ChatCompletionChunk]: ...

    def create(self, *, messages: Iterable[Any], model: str | None = None, tools: Iterable[Any] | None = None,
               tool_choice: Any = None, stream: bool = False, extra_body: Mapping[str, Any] | None = None,
               **params: Any) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """Create a chat completion (``stream=True``: a ``Stream`` of chunks).

        Args:
            messages: OpenAI-style messages (dicts, or messages from an earlier response).
            model: The model name (LightLLM echoes it).
            tools: ``Tool`` objects, plain callables or OpenAI tool dicts.
            tool_choice: "auto", "none", "required" or ``{"type": "function", "function": {"name": ...}}``.
            stream: Stream the answer as chunks.
            extra_body: Extra fields sent as they are.
            **params: temperature, top_p, top_k, max_tokens, max_completion_tokens, stop,
                presence_penalty, frequency_penalty, repetition_penalty, seed, n, and the
                passthrough keywords in ``PASSTHROUGH_PARAMS``; anything else goes in ``extra_body``.

        Raises:
            ValueError: a parameter the server would reject (too many stops, None values...).
            TypeError: an unknown keyword (the closest valid one is named).
            APIError: the request failed (see the exception tree).
        """
        answer: ChatCompletion | Stream[ChatCompletionChunk] = self._client._create(
            messages=normalize_messages(messages), model=model, tools=normalize_tools(tools), tool_choice=tool_choice,
            stream=stream, params=check_params(params), extra_body=dict(extra_body or {}))
        return answer


class _Chat:
    def __init__(self, client: BaseClient) -> None:
        self.completions = _Completions(client)


class BaseClient:
    """What both clients share: transport, ``chat.completions.create``, ``health``, ``close``."""

    def __init__(self, base_url: str | Iterable[str] | None = None, api_key: str | None = None,
                 timeout: Any = 600.0, max_retries: int = 2, *, tool_parser: str | None = None, verify: Any = True,
                 limits: ResponseLimits | None = None, headers: Mapping[str, str] | None = None,
                 session: Any = None, http_adapter: Any = None, pool_maxsize: int | None = None) -> None:
        self._transport = Transport(base_url, api_key, timeout=timeout, max_retries=max_retries, verify=verify,
                                    limits=limits, headers=headers, session=session, http_adapter=http_adapter,
                                    pool_maxsize=pool_maxsize)
        #: what from_config() needs to build this client again (picklable: no session, no adapter)
        self._kwargs: dict[str, Any] = {"base_url": [e.url for e in self._transport.endpoints],
                                        "api_key": self._transport._api_key, "timeout": (self.timeout.connect,
                                                                                         self.timeout.read),
                                        "max_retries": self.max_retries, "tool_parser": tool_parser, "verify": verify,
                                        "limits": limits, "headers": dict(headers or {}), "pool_maxsize": pool_maxsize}
        self.tool_parser = tool_parser or "qwen25"
        get_parser(self.tool_parser)  # fail early on an unknown name
        #: how each setting was chosen, for ``config`` and ``toolkit render --explain``
        self.chosen: dict[str, str] = {"tool_parser": "given" if tool_parser else "the default"}
        self._context_window: int | None = None
        self.chat = _Chat(self)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def config(self) -> dict[str, Any]:
        """The client's settings as plain values (the key and URL credentials left out), with
        ``chosen``: how each setting was picked (given, the default, or read from the template)."""
        return {"client": type(self).__name__, "base_url": self.base_url, "timeout": (self.timeout.connect,
                                                                                      self.timeout.read),
                "max_retries": self.max_retries, "tool_parser": self.tool_parser, **self._extra_config(),
                "chosen": dict(self.chosen), "kwargs": dict(self._kwargs)}

    def _extra_config(self) -> dict[str, Any]:
        return {}

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    @property
    def timeout(self) -> Any:
        return self._transport.timeout

    def health(self) -> bool:
        """``GET /health``: True when the server (every server of a fleet) answers 2xx; False when
        one is down or unhealthy. ``health_by_endpoint()`` reports each."""
        return all(self.health_by_endpoint().values())

    def health_by_endpoint(self) -> dict[str, bool]:
        """``{url: healthy}`` for each endpoint (one for a single ``base_url``)."""
        return self._transport.endpoint_health()

    @property
    def base_urls(self) -> list[str]:
        """Every endpoint's URL (several with ``base_url=[...]``)."""
        return [e.url for e in self._transport.endpoints]

    def context_window(self) -> int | None:
        """The model's context in tokens: ``max_model_len`` of ``GET /v1/models`` (LightLLM, vLLM),
        read once per client and cached; None when the server does not say.

        Raises:
            APIError: the server could not be asked.
        """
        if self._context_window is None:
            data = self._transport.get_json("/v1/models")
            lengths = [m.get("max_model_len") for m in (data.get("data") or []) if isinstance(m, dict)] \
                if isinstance(data, dict) else []
            found = next((n for n in lengths if isinstance(n, int) and n > 0), 0)
            self._context_window = found
        return self._context_window or None

    def models(self) -> list[str]:
        """Model ids from ``GET /v1/models``."""
        data = self._transport.get_json("/v1/models")
        return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "***" if self._transport._api_key else None
        urls = self.base_urls
        shown = urls[0] if len(urls) == 1 else urls
        return f"{type(self).__name__}(base_url={shown!r}, api_key={key})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Any:
        """A new client built from ``other.config`` (e.g. on a Dask worker): the same servers,
        key, timeouts, template and formats; a session or adapter of your own is not carried."""
        kwargs = dict(config.get("kwargs") or {})
        return cls(**kwargs)

    def _create(self, *, messages: list[dict[str, Any]], model: str | None, tools: list[dict[str, Any]] | None,
                tool_choice: Any, stream: bool, params: dict[str, Any], extra_body: dict[str, Any]) -> Any:
        raise NotImplementedError


def completion_id() -> str:
    return "chatcmpl-" + secrets.token_hex(16)
