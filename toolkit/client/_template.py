"""Chat templates rendered the way transformers' ``apply_chat_template`` renders them.

Same Jinja settings and globals (``trim_blocks``, ``lstrip_blocks``, loop controls, a
non-escaping ``tojson``, ``raise_exception``, ``strftime_now``), but always in jinja2's
*immutable sandbox*: a template file cannot reach Python internals. jinja2 is imported on
first use, and each template source is compiled once.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import pathlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .._exceptions import TemplateError

__all__ = ["ChatTemplate", "DEFAULT_TEMPLATE_PATH", "neutralize"]

DEFAULT_TEMPLATE_PATH = pathlib.Path(__file__).with_name("templates") / "qwen25.jinja"
_SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "pad_token")


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _raise_exception(message: str) -> None:
    import jinja2

    raise jinja2.exceptions.TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


@functools.lru_cache(maxsize=32)
def _compile(source: str) -> Any:
    import jinja2
    import jinja2.nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Generation(Extension):
        """``{% generation %}...{% endgeneration %}`` (transformers' assistant mask): renders its body."""

        tags = {"generation"}

        def parse(self, parser):  # type: ignore[no-untyped-def]
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jinja2.nodes.Scope(body, lineno=lineno)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[_Generation, loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"chat template does not compile: {exc} (line {exc.lineno})") from exc


class ChatTemplate:
    """A chat template: ``ChatTemplate(source)`` or ``ChatTemplate.load(path)``.

    ``render`` gives exactly what transformers' ``apply_chat_template(..., tokenize=False)``
    gives for the same messages, tools and variables.
    """

    def __init__(self, source: str, *, variables: Mapping[str, Any] | None = None, name: str | None = None) -> None:
        if not isinstance(source, str) or not source:
            raise TemplateError("a chat template must be a non-empty string of Jinja source")
        self.source = source
        self.name = name or "<string>"
        #: Default variables (e.g. bos_token from a tokenizer_config.json); render() arguments win.
        self.variables = dict(variables or {})

    @classmethod
    def default(cls) -> ChatTemplate:
        """toolkit's own Qwen2.5-style template (with image placeholders)."""
        return cls.load(DEFAULT_TEMPLATE_PATH)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ChatTemplate:
        """Load a ``.jinja`` file, a ``tokenizer_config.json``, a ``chat_template.json`` or a model
        directory holding one of them (``chat_template.jinja`` first, as transformers does).

        Raises:
            TemplateError: nothing usable at ``path``.
        """
        path = pathlib.Path(path)
        if path.is_dir():
            for candidate in ("chat_template.jinja", "chat_template.json", "tokenizer_config.json"):
                if (path / candidate).is_file():
                    return cls.load(path / candidate)
            raise TemplateError(f"{path} holds no chat_template.jinja, chat_template.json or tokenizer_config.json")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TemplateError(f"cannot read chat template {path}: {exc.strerror or exc}") from exc
        if path.suffix != ".json":
            return cls(text, name=str(path))
        try:
            config = json.loads(text)
        except ValueError as exc:
            raise TemplateError(f"{path} is not valid JSON: {exc}") from exc
        source = config.get("chat_template") if isinstance(config, dict) else None
        if isinstance(source, list):  # named templates: take "default"
            named = {t.get("name"): t.get("template") for t in source if isinstance(t, dict)}
            source = named.get("default") or next(iter(named.values()), None)
        if not isinstance(source, str):
            raise TemplateError(f"{path} has no chat_template string")
        variables = {}
        for key in _SPECIAL_TOKENS:
            token = config.get(key)
            if isinstance(token, dict):
                token = token.get("content")
            if isinstance(token, str):
                variables[key] = token
        return cls(source, variables=variables, name=str(path))

    def render(self, messages: Iterable[Mapping[str, Any]], tools: Iterable[Mapping[str, Any]] | None = None,
               add_generation_prompt: bool = True, **variables: Any) -> str:
        """Render a conversation (messages as given: no conversion happens here).

        Raises:
            TemplateError: the template raised, or tried something the sandbox forbids; the
                original exception is chained.
        """
        import jinja2
        from jinja2.exceptions import SecurityError

        compiled = _compile(self.source)
        context = {**self.variables, **variables}
        try:
            return str(compiled.render(messages=list(messages), tools=list(tools) if tools is not None else None,
                                   add_generation_prompt=add_generation_prompt, **context))
        except SecurityError as exc:
            raise TemplateError(f"chat template {self.name} tried an unsafe operation and was stopped by the "
                                f"sandbox: {exc}") from exc
        except jinja2.TemplateError as exc:
            raise TemplateError(f"chat template {self.name} failed: {exc}") from exc
        except Exception as exc:  # the template's own errors surface as Python exceptions
            raise TemplateError(f"chat template {self.name} failed: {type(exc).__name__}: {exc}") from exc

    @functools.cached_property
    def special_strings(self) -> tuple[str, ...]:
        """The control strings this template writes (``<|im_start|>``, ``</tool_response>``,
        ``[INST]``, ``<｜tool▁call▁begin｜>``...) and its special-token variables, longest first:
        text that must not appear verbatim inside untrusted content."""
        found = set(_CONTROL.findall(self.source)) | _COMMON_SPECIALS
        found.update(v for k, v in self.variables.items() if k in _SPECIAL_TOKENS and isinstance(v, str) and v)
        return tuple(sorted(found, key=lambda t: (-len(t), t)))

    def detect(self) -> dict[str, tuple[str, str]]:
        """What the template's markup says about the model: ``{"tool_parser": (name, why),
        "reasoning_format": (name, why), "arguments": ("string" | "object", why)}``."""
        source = self.source
        parser = next(((name, f"the template writes {marker!r}") for marker, name in _PARSER_MARKERS
                       if marker in source), ("qwen25", "no known tool-call marker in the template: the default"))
        if "◁think▷" in source:
            reasoning = ("kimi", "the template writes '◁think▷'")
        elif "<think>" in source:
            reasoning = ("think", "the template writes '<think>'")
        else:
            reasoning = ("think", "no reasoning markup in the template: <think> is still split when a reply opens it")
        # DeepSeek templates concatenate the arguments into the prompt: they need the JSON string
        arguments = ("string", "the template concatenates the arguments text (DeepSeek)") \
            if "<｜tool▁sep｜>" in source else ("object", "the template formats the arguments itself")
        return {"tool_parser": parser, "reasoning_format": reasoning, "arguments": arguments}

    def __repr__(self) -> str:
        return f"ChatTemplate({self.name!r})"


#: (marker in a template's source, tool-call format), most specific first.
_PARSER_MARKERS = (("<｜DSML｜", "deepseekv32"), ("```json", "deepseekv3"), ("<｜tool▁sep｜>", "deepseekv31"),
                   ("<|tool_call_argument_begin|>", "kimi_k2"), ("\\n<arg_key>", "glm45"), ("\n<arg_key>", "glm45"),
                   ("<arg_key>", "glm47"), ("<function=", "qwen3_coder"), ("<tool_call>", "qwen25"),
                   ("<|python_tag|>", "llama3"), ("[TOOL_CALLS]", "mistral"))


#: What counts as a control string in a template's source: ``<|...|>`` and ``<｜...｜>`` tokens,
#: XML-like tags (``<tool_call>``, ``</tool_response>``, ``<think>``), and Mistral's ``[INST]``-style
#: markers.
_CONTROL = re.compile(r"<\|[^|\s'\"{}]{1,40}\|>|<｜[^｜\s'\"{}]{1,40}｜>|</?[A-Za-z_][A-Za-z0-9_]{1,30}>|"
                      r"\[/?[A-Z][A-Z_]{2,20}\]|◁/?think▷")
ZERO_WIDTH_SPACE = "\u200b"
#: Special tokens of common tokenizers that templates do not always spell out.
_COMMON_SPECIALS = frozenset({"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|start_header_id|>",
                              "<|end_header_id|>", "<|begin_of_text|>", "<|end_of_text|>", "<|python_tag|>",
                              "<|eom_id|>"})


def neutralize(text: str, specials: Iterable[str]) -> str:
    """``text`` with a ZERO WIDTH SPACE (U+200B) put after the first character of every control
    string in it, so the tokenizer cannot read it as that token or tag; nothing else changes."""
    for special in specials:
        if special in text:
            text = text.replace(special, special[0] + ZERO_WIDTH_SPACE + special[1:])
    return text
