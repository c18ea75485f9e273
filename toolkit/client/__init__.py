"""The synchronous LightLLM client: transport, wire protocols, chat templates, tool-call parsers."""

from __future__ import annotations

from ._parsers import PARSERS, StreamParser, parse_tool_calls, register_parser

__all__ = ["PARSERS", "StreamParser", "parse_tool_calls", "register_parser"]
