"""A LightLLM-protocol server for tests (``toolkit.testing.LightLLMTestServer``), written from
LightLLM's HTTP protocol as read from its source.

Real HTTP on 127.0.0.1 (an ephemeral port), threaded. The "model" is a script: each
generation takes the next scripted output (a string, a list of strings for n > 1, a callable
of the request body, or a ``Fault`` that misbehaves on purpose). Every request is recorded so
tests can assert exactly what the client sent.

Behaviour follows the spec: ``/generate`` (no Content-Type on the answer, scalars for n == 1
and lists for n > 1, 417/400 validation), ``/generate_stream`` (``data:`` without a space, no
``[DONE]``, ``finished: true``), ``/v1/chat/completions`` as LightLLM started with
``--tool_call_parser qwen25`` (numeric ids, ``index: -1``, ``tool_calls: []`` when tags did not
parse, ``reasoning: ""``, the usage chunk with empty ``choices``, ``[DONE]``), ``/health``,
``/v1/models`` and the error shapes E1-E4. Its tool-call parsing is written independently of
toolkit's (LightLLM's own rules: shortest ``<tool_call>`` blocks, text before the first call).
"""

from __future__ import annotations

import base64
import binascii
import collections
import gzip
import json
import re
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    """A scripted misbehaviour. ``kind``: status, reset, reset_mid_body, stall, trickle, truncated,
    raw, stream_cut, stream_error."""

    kind: str
    status: int = 500
    body: Any = None
    headers: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    text: str = ""


@dataclass
class Reply:
    """A scripted generation with explicit engine fields."""

    text: Any
    finish_reason: Any = "stop"
    prompt_tokens: int | None = None
    delay: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, Any]
    body: Any


def e1(status: int, message: str) -> dict[str, Any]:
    kind = "InternalServerError" if status >= 500 else {404: "NotFoundError", 429: "RateLimitError"}.get(
        status, "BadRequestError")
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


_INT_PARAMS = ("max_new_tokens", "min_new_tokens", "top_k", "best_of", "n", "seed")
_FLOAT_PARAMS = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "repetition_penalty")
_TOOL_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)
_BOMB = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
_TAGS = ("<|plugin|>", "<function=", "<tool_call>", "<|python_tag|>", "[TOOL_CALLS]")


def lightllm_qwen25_parse(text: str, tool_names: set[str]) -> tuple[str, list[Any] | None]:
    """LightLLM's non-stream qwen25 behaviour: (content, tool_calls or None)."""
    if not any(tag in text for tag in _TAGS):
        return text, None
    calls = []
    for block in _TOOL_BLOCK.findall(text):
        try:
            value = json.loads(block.strip())
        except (ValueError, RecursionError):  # left in content, as LightLLM leaves what it cannot parse
            continue
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            args = item.get("parameters") or item.get("arguments") or {}
            calls.append({"id": "call_" + uuid.uuid4().hex[:24], "index": -1, "type": "function",
                          "function": {"name": item["name"], "arguments": json.dumps(args, ensure_ascii=False)}})
    if not calls:
        return text, []
    return text.split("<tool_call>", 1)[0].strip(), calls


def _unanswered_calls(messages: list[Any]) -> list[str]:
    missing: list[str] = []
    for i, message in enumerate(messages):
        if message.get("role") != "assistant" or not message.get("tool_calls"):
            continue
        answered = set()
        for later in messages[i + 1:]:
            if later.get("role") != "tool":
                break
            answered.add(later.get("tool_call_id"))
        missing += [str(c.get("id")) for c in message["tool_calls"] if c.get("id") not in answered]
    return missing


def _chat_tokens(body: dict[str, Any]) -> int:
    """This server's prompt tokens for a /v1 request: 4 characters of the messages' JSON a token."""
    return len(json.dumps(body.get("messages"), ensure_ascii=False)) // 4


def tokens_of(text: str, size: int = 3) -> list[str]:
    """Fake tokens: special tags whole, other text in small pieces."""
    out: list[str] = []
    for piece in re.split(r"(<tool_call>|</tool_call>)", text):
        if piece in ("<tool_call>", "</tool_call>"):
            out.append(piece)
        else:
            out.extend(piece[i:i + size] for i in range(0, len(piece), size))
    return out


class LightLLMServer:
    """The server: ``start()``/``stop()`` or a ``with`` block; ``script(...)`` what the model says."""

    def __init__(self) -> None:
        self.pending: collections.deque[Any] = collections.deque()
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.healthy = True
        self.model_name = "test-model"
        #: the context window, in this server's tokens (a token is 4 characters of the prompt text)
        self.max_model_len = 16384
        self._httpd: _QuietServer | None = None
        self.active = 0
        self.max_active = 0

    # -- control ---------------------------------------------------------------------------------

    def start(self) -> LightLLMServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.close_all()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The URL to give a client: ``LightLLMClient(base_url=server.base_url)``."""
        return self.url

    def script(self, outputs: Iterable[Any]) -> None:
        """What the model answers from now on, in order (the earlier script is dropped): texts as a
        model writes them (``'<tool_call>...</tool_call>'``, ``'<think>...</think>answer'``),
        ``Reply`` objects, ``Fault`` objects that misbehave on purpose, or callables of the request
        body. After the script, every answer is ``"ok"``."""
        with self.lock:
            self.pending.clear()
            self.pending.extend(outputs)

    def queue(self, *items: Any) -> None:
        """Append model outputs: texts, ``Reply``/``Fault`` objects or callables of the request body."""
        with self.lock:
            self.pending.extend(items)

    def __enter__(self) -> LightLLMServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def reset(self) -> None:
        with self.lock:
            self.pending.clear()
            self.requests.clear()
            self.healthy = True
            self.max_model_len = 16384

    def next_item(self, body: Any) -> Any:
        with self.lock:
            item = self.pending.popleft() if self.pending else "ok"
        if callable(item) and not isinstance(item, (Fault, Reply)):
            item = item(body)
        return item

    def record(self, method: str, path: str, headers: dict[str, Any], body: Any) -> None:
        with self.lock:
            self.requests.append(Recorded(method, path, headers, body))

    @property
    def posts(self) -> list[Recorded]:
        """The POST requests (a client also asks GET /v1/models for the context window)."""
        return [r for r in self.requests if r.method == "POST"]

    @property
    def last(self) -> Recorded:
        return self.requests[-1]


class _QuietServer(ThreadingHTTPServer):
    """Quiet about dropped connections; ``close_all`` cuts the open ones (an outage, not a drain)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
            self.open_sockets.clear()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up early (on purpose, in the fault tests) are not errors here


class _Handler(BaseHTTPRequestHandler):
    owner: LightLLMServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)  # keep the test output clean
        pass

    # -- plumbing --------------------------------------------------------------------------------

    def _send(self, status: int, payload: Any, *, content_type: str | None = "application/json",
              headers: dict[str, Any] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else (
            payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
        self.send_response(status, "")
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _sse_start(self) -> None:
        self.send_response(200, "")
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _event(self, payload: Any, *, space: bool = False) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self.wfile.write((("data: " if space else "data:") + data + "\n\n").encode())
        self.wfile.flush()

    def do_GET(self) -> None:
        self.owner.record("GET", self.path, dict(self.headers), None)
        if self.path in ("/health", "/healthz"):
            ok = self.owner.healthy
            self._send(200 if ok else 503, {"message": "Ok" if ok else "Error"})
        elif self.path == "/image.png":
            self._send(200, PNG, content_type="image/png")
        elif self.path == "/big.png":
            self._send(200, PNG * 5000, content_type="image/png")
        elif self.path.startswith("/redirect?to="):  # an image host that redirects (SSRF through hops)
            self._send(302, "", content_type=None,
                       headers={"Location": urllib.parse.unquote(self.path.split("=", 1)[1])})
        elif self.path == "/secret":
            self._send(200, b"top secret", content_type="image/png")
        elif self.path == "/bomb.png":  # 50 MB of zeros, gzip-compressed to ~50 KB
            self._send(200, _BOMB, content_type="image/png", headers={"Content-Encoding": "gzip"})
        elif self.path == "/gzip.png":
            self._send(200, gzip.compress(PNG), content_type="image/png", headers={"Content-Encoding": "gzip"})
        elif self.path == "/lying.png":  # says 10 bytes, sends 200 KB
            data = PNG * 2000
            self.send_response(200, "")
            self.send_header("Content-Type", "image/png")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(data)
        elif self.path == "/page.html":
            self._send(200, "<html></html>", content_type="text/html")
        elif self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.owner.model_name, "object": "model",
                                                         "created": 0, "owned_by": "lightllm",
                                                         "max_model_len": self.owner.max_model_len}]})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        body = self._read_body()
        owner = self.owner
        owner.record("POST", self.path, dict(self.headers), body)
        with owner.lock:
            owner.active += 1
            owner.max_active = max(owner.max_active, owner.active)
        try:
            route = {"/generate": self._generate, "/generate_stream": self._generate_stream,
                     "/v1/chat/completions": self._chat, "/tokens": self._tokens}.get(self.path)
            if route is None:
                self._send(404, {"detail": "Not Found"})
            else:
                route(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with owner.lock:
                owner.active -= 1

    # -- faults ----------------------------------------------------------------------------------

    def _reset(self) -> None:
        """Close with RST (linger 0), as a crashed peer or a proxy would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.connection.close()
        self.close_connection = True

    def _fault(self, fault: Fault) -> None:
        kind = fault.kind
        if kind == "status":
            body = fault.body if fault.body is not None else e1(fault.status, "scripted failure")
            ctype = "application/json" if not isinstance(body, (str, bytes)) else "text/html"
            self._send(fault.status, body, content_type=fault.headers.pop("Content-Type", ctype),
                       headers=fault.headers)
        elif kind == "reset":
            self._reset()
        elif kind == "reset_mid_body":
            self.send_response(200, "")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"generated_text": ["abc')
            self.wfile.flush()
            time.sleep(0.05)
            self._reset()
        elif kind == "stall":
            self.send_response(200, "")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(fault.seconds)
            self.close_connection = True
        elif kind == "trickle":
            data = json.dumps({"generated_text": [fault.text or "x" * 200], "count_output_tokens": 1,
                               "finish_reason": "stop", "prompt_tokens": 1}).encode()
            self.send_response(200, "")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(len(data)):
                try:
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    break
                time.sleep(fault.seconds or 0.1)
            self.close_connection = True
        elif kind == "truncated":
            data = json.dumps({"generated_text": ["partial answer"], "finish_reason": "stop"}).encode()
            self.send_response(200, "")
            self.send_header("Content-Length", str(len(data) + 500))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.close_connection = True
        elif kind == "long_line":  # one SSE line that never ends
            self._sse_start()
            self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {"content": "' + b"a" * 20_000)
            self.wfile.flush()
            time.sleep(0.2)
        elif kind == "raw":
            self._send(fault.status or 200, fault.body, content_type=fault.headers.get("Content-Type"))
        else:
            raise ValueError(f"unknown fault {kind}")

    # -- native ----------------------------------------------------------------------------------

    def _validate_native(self, body: Any, *, stream: bool) -> tuple[int, dict[str, Any]] | None:
        if not isinstance(body, dict):
            return (400, e1(400, "Expecting value: line 1 column 1 (char 0)")) if isinstance(body, str) else \
                (417, e1(417, "body is not an object"))
        if "inputs" not in body:
            return 417, e1(417, "'inputs'")
        if "parameters" not in body:
            return 417, e1(417, "'parameters'")
        params = body["parameters"]
        for key in _INT_PARAMS:
            if key in params and (params[key] is None or isinstance(params[key], float)):
                return 417, e1(417, f"'{type(params[key]).__name__}' object cannot be interpreted as an integer")
        for key in _FLOAT_PARAMS:
            if key in params and params[key] is None:
                return 417, e1(417, "must be real number, not NoneType")
        stops = params.get("stop_sequences")
        if isinstance(stops, list) and len([s for s in stops if s]) > 10:
            return 417, e1(417, "Too many stop sequence groups.")
        if params.get("do_sample") and params.get("temperature", 1.0) < 0:
            return 400, e1(400, f"temperature must > 0.0, got {params['temperature']}")
        if params.get("max_new_tokens", 1) < 1:
            return 400, e1(400, f"max_new_tokens must >= 1, got {params['max_new_tokens']}")
        best_of = params.get("best_of", 1)
        if not 1 <= best_of <= 8:
            return 400, e1(400, f"need 0 < best_of <= 8, but got {best_of}")
        if params.get("n", best_of) != best_of:
            return 400, e1(400, "current only supported n == best_of")
        if stream and best_of != 1:
            return 417, e1(417, "stream api only support best_of == 1")
        if not body["inputs"]:
            return 400, e1(400, "prompt is empty")
        return self._validate_images(body)

    @staticmethod
    def _validate_images(body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        images = (body.get("multimodal_params") or {}).get("images") or []
        for item in images:
            if "type" not in item or "data" not in item:
                return 417, e1(417, "'data'")
            if item["type"] == "base64":
                try:
                    base64.b64decode(item["data"], validate=True)
                except (binascii.Error, ValueError):
                    return 400, e1(400, "image decode failed")
            elif item["type"] != "url" or not str(item["data"]).startswith(("http://", "https://")):
                return 400, e1(400, f"bad image item {item['type']}")
        placeholders = body["inputs"].count(IMAGE_PLACEHOLDER)
        if placeholders != len(images):
            return 400, e1(400, f"image placeholder count {placeholders} != image count {len(images)}")
        return None

    def _generate(self, body: Any) -> None:
        problem = self._validate_native(body, stream=False) or self._too_long(
            len(body["inputs"]) // 4, body["parameters"].get("max_new_tokens"))
        if problem:
            self._send(*problem)
            return
        item = self.owner.next_item(body)
        if isinstance(item, Fault):
            self._fault(item)
            return
        reply = item if isinstance(item, Reply) else Reply(item)
        time.sleep(reply.delay)
        n = body["parameters"].get("best_of", 1)
        texts = reply.text if isinstance(reply.text, list) else [reply.text] * n
        prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else len(body["inputs"]) // 4
        counts = [len(t) // 4 + 1 for t in texts]
        if n == 1:
            payload = {"generated_text": texts[:1], "count_output_tokens": counts[0],
                       "finish_reason": reply.finish_reason, "prompt_tokens": prompt_tokens}
        else:
            finish = reply.finish_reason if isinstance(reply.finish_reason, list) else [reply.finish_reason] * n
            payload = {"generated_text": texts, "count_output_tokens": counts, "finish_reason": finish,
                       "prompt_tokens": prompt_tokens}
        payload["input_usage"] = {"input_text_tokens": prompt_tokens, "input_audio_tokens": 0,
                                  "input_image_tokens": 0}
        self._send(200, payload, content_type=None)  # LightLLM sets no Content-Type here

    def _too_long(self, prompt_tokens: int, max_new_tokens: Any) -> tuple[int, dict[str, Any]] | None:
        """LightLLM's 400 when the prompt does not fit (its message has a run of spaces inside)."""
        wanted = max_new_tokens if isinstance(max_new_tokens, int) else 1
        if prompt_tokens + wanted > self.owner.max_model_len:
            return 400, e1(400, f"the input prompt token len {prompt_tokens} + max_new_tokens {wanted} >      "
                                f"{self.owner.max_model_len}")
        return None

    def _tokens(self, body: Any) -> None:
        if not isinstance(body, dict) or "text" not in body:
            self._send(417, e1(417, "'text'"))
            return
        images = len(((body.get("multimodal_params") or {}).get("images")) or [])
        self._send(200, {"ntokens": len(body["text"]) // 4 + images * 5})

    def _next_reply(self, body: Any) -> tuple[Any, Reply | None]:
        """The next scripted item and its reply; a fault other than a mid-stream one is sent at
        once (the reply is then None)."""
        item = self.owner.next_item(body)
        if isinstance(item, Fault) and item.kind not in ("stream_cut", "stream_error"):
            self._fault(item)
            return item, None
        return item, item if isinstance(item, Reply) else Reply(item.text if isinstance(item, Fault) else item)

    def _generate_stream(self, body: Any) -> None:
        problem = self._validate_native(body, stream=True)
        if problem:
            self._send(*problem)
            return
        item, reply = self._next_reply(body)
        if reply is None:
            return
        prompt_tokens = len(body["inputs"]) // 4
        self._sse_start()
        pieces = tokens_of(reply.text) + [""]  # the EOS token has empty text
        for i, piece in enumerate(pieces):
            if isinstance(item, Fault) and item.kind == "stream_cut" and i == len(pieces) // 2:
                self.wfile.write(b'data:{"token": {"id": 1, "te')
                self.wfile.flush()
                self._reset()
                return
            if isinstance(item, Fault) and item.kind == "stream_error" and i == len(pieces) // 2:
                self._event({"error": {"message": item.body or "the input prompt token len 20000 > 16384",
                                       "type": "invalid_request_error"}}, space=True)
                return
            last = i == len(pieces) - 1
            # the final count is the one the non-stream answer gives for the same text
            count = len(reply.text) // 4 + 1 if last else i + 1
            self._event({"token": {"id": 100 + i, "text": piece, "logprob": -0.5, "special": False,
                                   "count_output_tokens": count, "prompt_tokens": prompt_tokens},
                         "generated_text": None, "finished": last,
                         "finish_reason": reply.finish_reason if last else None, "details": None})
            time.sleep(reply.delay)

    # -- OpenAI route (LightLLM with --tool_call_parser qwen25) ----------------------------------

    def _chat(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send(422, {"detail": [{"type": "missing", "loc": ["body", "messages"], "msg": "Field required",
                                         "input": body}]})
            return
        for i, message in enumerate(body["messages"]):
            if message.get("role") not in ("system", "assistant", "tool", "function") and \
                    not isinstance(message.get("content"), (str, list)):
                self._send(422, {"detail": [{"type": "string_type", "loc": ["body", "messages", i, "content"],
                                             "msg": "Input should be a valid string", "input": None}]})
                return
            for call in message.get("tool_calls") or []:
                if not isinstance(call.get("function", {}).get("arguments", ""), str):
                    self._send(422, {"detail": [{"type": "string_type", "loc": ["body", "messages", i, "tool_calls"],
                                                 "msg": "Input should be a valid string", "input": None}]})
                    return
        unanswered = _unanswered_calls(body["messages"])
        if unanswered:  # as OpenAI-style servers answer a transcript with a call left unanswered
            self._send(400, e1(400, "An assistant message with 'tool_calls' must be followed by tool messages "
                                    f"responding to each 'tool_call_id'. Missing: {', '.join(unanswered)}"))
            return
        too_long = self._too_long(_chat_tokens(body), body.get("max_tokens"))
        if too_long:
            self._send(*too_long)
            return
        for key in ("temperature", "top_p", "top_k", "n", "presence_penalty", "frequency_penalty"):
            if key in body and body[key] is None:
                self._send(500, "Internal Server Error", content_type="text/plain")
                return
        stop = body.get("stop")
        if isinstance(stop, list) and len(stop) > 10:
            self._send(500, "Internal Server Error", content_type="text/plain")
            return
        if body.get("temperature", 1) < 0:
            self._send(400, e1(400, f"temperature must > 0.0, got {body['temperature']}"))
            return
        item, reply = self._next_reply(body)
        if reply is None:
            return
        tools = body.get("tools") or []
        names = {t.get("function", {}).get("name") for t in tools}
        parse = bool(tools) and body.get("tool_choice") != "none"
        if body.get("stream"):
            self._chat_stream(body, reply, parse, names, item if isinstance(item, Fault) else None)
            return
        n = body.get("n", 1)
        texts = reply.text if isinstance(reply.text, list) else [reply.text] * n
        choices, completion_tokens = [], 0
        for i, text in enumerate(texts):
            content, calls = lightllm_qwen25_parse(text, names) if parse else (text, None)
            finish = reply.finish_reason
            if calls and finish == "stop":
                finish = "tool_calls"
            choices.append({"index": i, "message": {"role": "assistant", "content": content, "reasoning": "",
                                                    "reasoning_content": None, "tool_calls": calls},
                            "finish_reason": finish})
            completion_tokens += len(text) // 4 + 1
        prompt_tokens = _chat_tokens(body)
        self._send(200, {"id": str(len(self.owner.requests)), "object": "chat.completion", "created": int(time.time()),
                         "model": body.get("model", "default"), "choices": choices,
                         "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                   "total_tokens": prompt_tokens + completion_tokens,
                                   "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}}})

    def _chat_stream(self, body: dict[str, Any], reply: Reply, parse: bool, names: set[Any], fault: Fault | None) -> None:
        base = {"id": "chatcmpl-" + uuid.uuid4().hex, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", "default")}

        def chunk(delta: dict[str, Any], finish: Any = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        self._sse_start()
        self._event(chunk({"role": "assistant", "content": ""}), space=True)
        text = reply.text
        pieces = tokens_of(text)
        sent_calls = 0
        if parse and "<tool_call>" in text:
            content, calls = lightllm_qwen25_parse(text, names)
            for piece in tokens_of(content):
                self._event(chunk({"content": piece}), space=True)
            for index, call in enumerate(calls or []):
                self._event(chunk({"tool_calls": [{"id": call["id"], "index": index, "type": "function",
                                                   "function": {"name": call["function"]["name"],
                                                                "arguments": ""}}]}), space=True)
                args = call["function"]["arguments"]
                for k in range(0, len(args), 4):
                    self._event(chunk({"tool_calls": [{"index": index,
                                                       "function": {"arguments": args[k:k + 4]}}]}), space=True)
                sent_calls += 1
        else:
            for i, piece in enumerate(pieces):
                if fault is not None and i == len(pieces) // 2:
                    if fault.kind == "stream_cut":
                        self.wfile.write(b'data: {"id": "x", "choi')
                        self.wfile.flush()
                        self._reset()
                        return
                    self._event({"error": {"message": fault.body or "Server is busy", "type": "server_error",
                                           "code": "stream_error"}}, space=True)
                    return
                self._event(chunk({"content": piece}), space=True)
        finish = "tool_calls" if sent_calls and reply.finish_reason == "stop" else reply.finish_reason
        final = chunk({}, finish)
        final["choices"][0]["stop_reason"] = None
        self._event(final, space=True)
        prompt, completion = _chat_tokens(body), len(reply.text) // 4 + 1  # as the non-stream answer counts
        self._event({**base, "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                                      "total_tokens": prompt + completion}}, space=True)
        self._event("[DONE]", space=True)
