"""HTTP transport: one requests.Session, retries, caps, and the only place errors are translated."""

from __future__ import annotations

import datetime
import email.utils
import json
import logging
import os
import random
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)

__all__ = ["Limits", "ResponseLimits", "Timeout", "Transport", "redact_url"]

log = logging.getLogger("toolkit.client")

DEFAULT_BASE_URL = "http://localhost:8000"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 600.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_POOL_MAXSIZE = 32
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0

_STATUS_ERRORS = {400: BadRequestError, 417: BadRequestError, 422: BadRequestError, 401: AuthenticationError,
                  403: AuthenticationError, 404: NotFoundError, 429: RateLimitError}


class _Settings:
    """A small immutable value: repr, equality, hashing and pickling from ``__slots__`` (what a
    frozen dataclass gives, without loading ``dataclasses`` with the client)."""

    __slots__: tuple[str, ...] = ()

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())


class Timeout(_Settings):
    """Connect and read timeouts in seconds; the read timeout also bounds reading a whole body."""

    __slots__ = ("connect", "read")
    connect: float
    read: float

    def __init__(self, connect: float = DEFAULT_CONNECT_TIMEOUT, read: float = DEFAULT_READ_TIMEOUT) -> None:
        self._set(connect=connect, read=read)

    @classmethod
    def of(cls, value: float | tuple[float, float] | Timeout | None) -> Timeout:
        if value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        if isinstance(value, tuple):
            return cls(float(value[0]), float(value[1]))
        value = float(value)
        if value <= 0:
            raise ValueError(f"timeout must be positive, got {value}")
        return cls(min(DEFAULT_CONNECT_TIMEOUT, value), value)


FLEET_COOLDOWN = 5.0


class Endpoint:
    """One server of a fleet: its URL, auth, requests in flight, and cool-down."""

    __slots__ = ("auth", "cool_until", "in_flight", "url")

    def __init__(self, url: str, auth: Any) -> None:
        self.url = url
        self.auth = auth
        self.in_flight = 0
        self.cool_until = 0.0


def _urls(base_url: str | Iterable[str] | None) -> list[str]:
    """One URL, a list, or ``LIGHTLLM_BASE_URL`` (comma-separated for several)."""
    if base_url is None:
        base_url = os.environ.get("LIGHTLLM_BASE_URL") or DEFAULT_BASE_URL
    items = base_url.split(",") if isinstance(base_url, str) else list(base_url)
    urls = [str(u).strip().rstrip("/") for u in items if str(u).strip()]
    if not urls:
        raise ValueError("base_url is empty: give a URL such as http://localhost:8000 (or a list of them)")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {redact_url(url)!r}")
    return urls


class ResponseLimits(_Settings):
    """Caps on what a server may send back (not connection-pool limits: see ``pool_maxsize``).

    Attributes:
        max_response_bytes: Largest response body read (bytes).
        max_line_bytes: Longest line of a streamed (SSE) response (bytes).
    """

    __slots__ = ("max_response_bytes", "max_line_bytes")
    max_response_bytes: int
    max_line_bytes: int

    def __init__(self, max_response_bytes: int = 64 * 1024 * 1024, max_line_bytes: int = 8 * 1024 * 1024) -> None:
        self._set(max_response_bytes=max_response_bytes, max_line_bytes=max_line_bytes)


#: The former name of ``ResponseLimits``, kept as an alias.
Limits = ResponseLimits


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + host))


def _split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without userinfo, and ``(user, password)`` from it (sent as Basic auth)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=host))
    return clean, (urllib.parse.unquote(user), _Secret(urllib.parse.unquote(password)))


def json_bytes(body: Any) -> bytes:
    """A JSON body as UTF-8; lone surrogates (``"\\ud800"`` a model escaped) become U+FFFD."""
    text = json.dumps(body, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: join pairs, replace what cannot be encoded
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


class _Secret(str):
    """A string that never shows itself in a repr."""

    def __repr__(self) -> str:
        return "'***'"


class Transport:
    """Sends requests to one server. Thread-safe: one pooled session shared by every thread.

    Generation is side-effect free on the server, so retrying a POST is safe.
    """

    def __init__(self, base_url: str | Iterable[str] | None, api_key: str | None, *, timeout: Any = None,
                 max_retries: int | None = None, verify: Any = True, limits: ResponseLimits | None = None,
                 headers: Mapping[str, str] | None = None, session: Any = None, http_adapter: Any = None,
                 pool_maxsize: int | None = None) -> None:
        import requests
        import requests.adapters
        import requests.structures

        self._header_dict = requests.structures.CaseInsensitiveDict
        urls = _urls(base_url)
        self.endpoints = [Endpoint(*_split_userinfo(url)) for url in urls]
        self.base_url, self._auth = self.endpoints[0].url, self.endpoints[0].auth
        self._fleet_lock = threading.Lock()
        self._turn = 0
        key = api_key if api_key is not None else os.environ.get("LIGHTLLM_API_KEY")
        self._api_key = _Secret(key) if key else None
        self.timeout = Timeout.of(timeout)
        self.max_retries = DEFAULT_MAX_RETRIES if max_retries is None else int(max_retries)
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if pool_maxsize is not None and (not isinstance(pool_maxsize, int) or pool_maxsize < 1):
            raise ValueError(f"pool_maxsize must be a positive integer, got {pool_maxsize!r}")
        self.limits = limits or ResponseLimits()
        self.verify = verify
        # the headers go with each request: a caller's session is never changed
        self.headers: dict[str, str] = {"Content-Type": "application/json", "Accept": "application/json",
                                        "User-Agent": "toolkit-lightllm/0.1"}
        if self._api_key:
            self.headers["Authorization"] = _Secret(f"Bearer {self._api_key}")
        if headers:
            self.headers.update(headers)
        self._requests = requests
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._proxies: dict[str, Any] = {}
        self._urls: dict[str, str] = {}
        if self._owns_session:
            # the environment (proxies, no_proxy, CA bundle) is read once here instead of on every
            # request, which requests does at a cost of ~0.2 ms per request
            self.session.trust_env = False
            import requests.utils

            self._proxies = {e.url: requests.utils.get_environ_proxies(e.url) for e in self.endpoints}
            if verify is True:
                self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.pool_maxsize = pool_maxsize or DEFAULT_POOL_MAXSIZE
        if http_adapter is not None:
            self._mount(http_adapter)
        elif self._owns_session:
            self._mount(requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=self.pool_maxsize))

    def _mount(self, adapter: Any) -> None:
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def ensure_pool(self, size: int) -> None:
        """Grow the connection pool of toolkit's own session to ``size`` (no-op for a caller's session
        or adapter, and when it is already as large)."""
        if not self._owns_session or size <= self.pool_maxsize:
            return
        import requests.adapters

        self.pool_maxsize = size
        self._mount(requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=size))

    def close(self) -> None:
        """Close toolkit's own session (a caller's session stays open: it is theirs)."""
        if self._owns_session:
            self.session.close()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key={'***' if self._api_key else None})"

    @property
    def fleet(self) -> bool:
        return len(self.endpoints) > 1

    def request(self, method: str, url: str, *, data: bytes | None = None, stream: bool = True,
                timeout: tuple[float, float] | None = None, auth: Any = None, base: str | None = None) -> Any:
        """One HTTP request with toolkit's headers, auth and TLS settings (no retries)."""
        auth = auth if auth is not None else self._auth
        proxies = self._proxies.get(base or self.base_url) or None
        timeout = timeout or (self.timeout.connect, self.timeout.read)
        if self._owns_session and not self.session.cookies:
            response = self._send_direct(method, url, data, auth, proxies, timeout, stream)
            if not response.is_redirect:
                if response.cookies:  # kept, as a session does (a proxy's affinity cookie)
                    self.session.cookies.update(response.cookies)
                return response
            response.close()  # a redirect: requests follows it as it would for any caller
        # verify is passed per request: a session-level value loses to REQUESTS_CA_BUNDLE
        return self.session.request(method, url, data=data, stream=stream, verify=self.verify, headers=self.headers,
                                    auth=auth, proxies=proxies, timeout=timeout)

    def _send_direct(self, method: str, url: str, data: bytes | None, auth: Any, proxies: Any,
                     timeout: tuple[float, float], stream: bool) -> Any:
        """The request handed straight to the session's adapter: what ``Session.request`` would
        send when the session has no cookies (toolkit's own session has no hooks, no default auth
        and reads no environment), without its merging and bookkeeping, ~40% of a request's CPU.
        Redirects and cookies go back to ``Session.request`` (see ``request``)."""
        requests = self._requests
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = self._prepared_url(url)
        headers: Any = self._header_dict(self.session.headers)
        headers.update(self.headers)
        if data is not None:
            headers["Content-Length"] = str(len(data))
        elif method not in ("GET", "HEAD"):
            headers["Content-Length"] = "0"
        prepared.headers = headers
        prepared.body = data
        if auth is not None:
            prepared.prepare_auth(auth)
        adapter = self.session.get_adapter(prepared.url)
        return adapter.send(prepared, stream=stream, timeout=timeout, verify=self.verify, proxies=proxies or {})

    def _prepared_url(self, url: str) -> str:
        """``url`` as requests prepares it (IDNA host, quoted path), worked out once per URL."""
        prepared = self._urls.get(url)
        if prepared is None:
            request = self._requests.PreparedRequest()
            request.prepare_url(url, None)
            prepared = request.url or url
            if len(self._urls) < 64:
                self._urls[url] = prepared
        return prepared

    # -- a fleet of servers -------------------------------------------------------------------

    def _pick(self) -> Endpoint:
        """The endpoint with the fewest requests in flight among those not cooling down (ties in
        turn); when all cool down, the one that recovers first."""
        if not self.fleet:
            return self.endpoints[0]
        with self._fleet_lock:
            now = time.monotonic()
            ready = [e for e in self.endpoints if e.cool_until <= now] or \
                [min(self.endpoints, key=lambda e: e.cool_until)]
            least = min(e.in_flight for e in ready)
            tied = [e for e in ready if e.in_flight == least]
            chosen = tied[self._turn % len(tied)]
            self._turn += 1
            chosen.in_flight += 1
            return chosen

    def _release(self, endpoint: Endpoint) -> None:
        if self.fleet:
            with self._fleet_lock:
                endpoint.in_flight = max(0, endpoint.in_flight - 1)

    def _cool(self, endpoint: Endpoint, seconds: float | None) -> bool:
        """Skip ``endpoint`` for a while; True when another endpoint can take the retry at once."""
        if not self.fleet:
            return False
        with self._fleet_lock:
            endpoint.cool_until = time.monotonic() + (seconds if seconds is not None else FLEET_COOLDOWN)
            now = time.monotonic()
            return any(e.cool_until <= now for e in self.endpoints)

    def _track(self, response: Any, endpoint: Endpoint) -> Any:
        """Count ``response`` in flight on ``endpoint`` until it is closed."""
        if not self.fleet:
            return response
        response._toolkit_endpoint = endpoint
        close = response.close
        released = [False]

        def closing() -> None:
            if not released[0]:
                released[0] = True
                self._release(endpoint)
            close()

        response.close = closing
        return response

    def endpoint_health(self) -> dict[str, bool]:
        """``GET /health`` on every endpoint: {url: healthy}."""
        out = {}
        for endpoint in self.endpoints:
            try:
                response = self.request("GET", endpoint.url + "/health", auth=endpoint.auth,
                                        timeout=(self.timeout.connect, 30.0), base=endpoint.url)
            except Exception:  # noqa: BLE001 (down is an answer here)
                out[endpoint.url] = False
                continue
            try:
                out[endpoint.url] = response.status_code < 300
            finally:
                response.close()
        return out

    # -- requests ---------------------------------------------------------------------------

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body, return the parsed JSON answer. A connection that breaks while the body
        is read is retried too (within ``max_retries``): nothing has reached the caller yet."""
        for attempt in range(self.max_retries + 1):
            response = self.send("POST", path, body)
            try:
                return self.read_json(response)
            except APIConnectionError as exc:
                if isinstance(exc, APITimeoutError) or attempt == self.max_retries:
                    raise
                endpoint = getattr(response, "_toolkit_endpoint", None)
                if endpoint is None or not self._cool(endpoint, None):
                    self._sleep(attempt, None, "a connection broken while reading")
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, path: str) -> Any:
        return self.read_json(self.send("GET", path, None))

    def send(self, method: str, path: str, body: Any) -> Any:
        """Send with retries; return a response with a 2xx status, headers read, body unread.

        With several endpoints, a refused connection, 503 or 429 puts that endpoint in a cool-down
        and the retry goes to another at once. Nothing is retried once the response is returned, so
        a stream is never retried after a byte was delivered."""
        data = json_bytes(body) if body is not None else None
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            endpoint = self._pick()
            try:
                response = self.request(method, endpoint.url + path, data=data, auth=endpoint.auth,
                                        base=endpoint.url)
            except Exception as exc:
                self._release(endpoint)
                error = self.translate(exc, method, path, endpoint.url)
                retryable = not isinstance(error, APITimeoutError) or isinstance(
                    exc, self._requests.exceptions.ConnectTimeout)
                if last or not retryable:
                    if attempt:
                        error.args = (f"{error.args[0]} (after {attempt + 1} attempts)",)
                        error.message = error.args[0]
                    raise error from exc
                if not self._cool(endpoint, None):
                    self._sleep(attempt, None, f"{type(error).__name__}")
                continue
            if response.status_code < 300:
                return self._track(response, endpoint)
            self._release(endpoint)
            if response.status_code in RETRY_STATUSES and not last:
                delay = retry_after_seconds(response.headers)
                response.close()
                elsewhere = response.status_code in (429, 503) and self._cool(endpoint, delay)
                if not elsewhere:
                    self._sleep(attempt, delay, f"status {response.status_code}")
                continue
            raise self._status_error(response, attempts=attempt + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int, delay: float | None, why: str) -> None:
        if delay is None:
            delay = min(MAX_BACKOFF, INITIAL_BACKOFF * 2 ** attempt) * (0.75 + random.random() * 0.5)
        log.info("retrying after %s in %.2fs (attempt %d of %d)", why, delay, attempt + 2, self.max_retries + 1)
        time.sleep(delay)

    def translate(self, exc: BaseException, method: str = "", path: str = "", url: str | None = None) -> APIError:
        """The one table from transport exceptions (requests, urllib3, sockets) to ours."""
        if isinstance(exc, APIError):
            return exc
        base = url or self.base_url
        where = f"{method} {base}{path}" if method else f"reading from {base}"
        for kinds, make in self._table():
            if isinstance(exc, kinds):
                return make(self, where, exc, base)  # type: ignore[no-any-return]
        return APIConnectionError(f"{where}: {type(exc).__name__}: {_short(exc)}")

    def _table(self) -> list[tuple[tuple[type[BaseException], ...], Any]]:
        table = _TRANSLATIONS.get("table")
        if table is None:
            table = _TRANSLATIONS["table"] = _build_table(self._requests)
        return table

    def _status_error(self, response: Any, *, attempts: int) -> APIStatusError:
        try:
            raw = self.read_body(response)
        except Exception:  # the error body itself failed to arrive: keep the status
            raw = b""
        body: Any
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        message = error_message(body) or f"HTTP {response.status_code}"
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        status = response.status_code
        kind = _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
        return kind(message, status_code=status, body=body)

    # -- bodies -------------------------------------------------------------------------------

    def read_body(self, response: Any) -> bytes:
        """The whole body, capped in size, and in time by the read timeout."""
        cap = self.limits.max_response_bytes
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > cap:
            response.close()
            raise APIResponseValidationError(f"response of {length} bytes is larger than the "
                                             f"{cap}-byte limit (ResponseLimits.max_response_bytes)")
        deadline = time.monotonic() + self.timeout.read
        chunks = []
        size = 0
        try:
            for chunk in self._chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    raise APIResponseValidationError(f"response is larger than the {cap}-byte limit "
                                                     f"(ResponseLimits.max_response_bytes)")
                if time.monotonic() > deadline:
                    raise APITimeoutError(f"the response body did not finish within the read timeout of "
                                          f"{self.timeout.read}s")
        finally:
            response.close()
        return b"".join(chunks)

    def _chunks(self, response: Any) -> Iterator[bytes]:
        """Raw body chunks as they arrive; a broken or stalled connection becomes a typed error."""
        raw = response.raw
        try:
            while True:
                chunk = _read_some(raw)
                if not chunk:
                    return
                yield chunk
        except GeneratorExit:
            raise
        except Exception as exc:
            error = self.translate(exc)
            if isinstance(error, APITimeoutError):
                error = APITimeoutError(f"the server sent nothing for longer than the read timeout of "
                                        f"{self.timeout.read}s")
            elif type(error) is APIConnectionError:
                error = APIConnectionError(f"the connection broke while reading the response ({_short(exc)})")
            raise error from exc

    def read_json(self, response: Any) -> Any:
        raw = self.read_body(response)
        try:
            return json.loads(raw)
        except ValueError:
            snippet = raw[:200].decode("utf-8", "replace")
            raise APIResponseValidationError(f"the server answered {response.status_code} with a body that is "
                                             f"not JSON: {snippet!r}", body=snippet) from None

    def iter_event_batches(self, response: Any) -> Iterator[list[bytes]]:
        """The SSE ``data`` payloads of a streamed body, a list per network read (see
        ``sse_batches``); connection errors become typed errors and the response is closed
        however the iteration ends."""
        try:
            yield from sse_batches(self._chunks(response), self.limits.max_line_bytes)
        finally:
            response.close()


def sse_batches(chunks: Iterable[bytes], max_line: int) -> Iterator[list[bytes]]:
    """SSE ``data`` payloads (bytes, UTF-8) from body chunks as they arrive, a list per chunk
    (the events it completes): ``data:`` with or without a space; blank lines, comments and
    ``event:``/``id:``/``retry:`` lines skipped; multi-line data joined with newlines;
    ``[DONE]`` passed on; lines ending in CRLF too.

    Each read is split at once: while the stream uses bare ``\n`` (LightLLM does), at event
    boundaries (``\n\n``), so a one-line event costs one slice; after the first ``\r``, line
    by line. A line longer than ``max_line`` bytes raises ``APIResponseValidationError``.
    """
    pending = b""
    data: list[bytes] = []
    by_event = True
    for chunk in chunks:
        pending = pending + chunk if pending else chunk
        if by_event and b"\r" in chunk:
            by_event = False  # CRLF (or stray CR): the rest line by line
        out: list[bytes] = []
        if by_event:
            blocks = pending.split(b"\n\n")
            pending = blocks.pop()
            for block in blocks:
                if block[:5] == b"data:" and b"\n" not in block:  # the common event: one data line
                    out.append(block[6:] if block[5:6] == b" " else block[5:])
                elif block:
                    _sse_lines(block.split(b"\n"), data, out)
                    _end_event(data, out)
            if len(pending) > max_line and max(map(len, pending.split(b"\n"))) > max_line:
                raise _line_too_long(max_line)
        else:
            *lines, pending = pending.split(b"\n")
            if len(pending) > max_line:
                raise _line_too_long(max_line)
            _sse_lines(lines, data, out)
        if out:
            yield out
    out = []
    if pending:
        _sse_lines(pending.split(b"\n"), data, out)
    _end_event(data, out)
    if out:
        yield out


def _sse_lines(lines: Iterable[bytes], data: list[bytes], out: list[bytes]) -> None:
    """Lines of SSE: each blank line ends an event (its joined ``data`` goes to ``out``);
    ``data`` holds the lines of the event still open, for the caller to continue."""
    for line in lines:
        if line[-1:] == b"\r":
            line = line.rstrip(b"\r")
        if not line:
            _end_event(data, out)
        elif line[:5] == b"data:":
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        # "event:", "id:", "retry:" and ":" comments carry nothing we need


def _end_event(data: list[bytes], out: list[bytes]) -> None:
    if data:
        out.append(data[0] if len(data) == 1 else b"\n".join(data))
        data.clear()


def _line_too_long(cap: int) -> APIResponseValidationError:
    return APIResponseValidationError(f"a streamed line is longer than the {cap}-byte limit "
                                      f"(ResponseLimits.max_line_bytes)")


def error_message(body: Any) -> str:
    """The message of every LightLLM error shape (E1-E6) and of FastAPI's defaults."""
    if isinstance(body, str):
        text = body.strip()
        if text.startswith("<"):  # an HTML error page, from a proxy in front of the server
            title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
            plain = re.sub(r"<[^>]+>", " ", title.group(1) if title else text)
            return "HTML error page: " + " ".join(plain.split())[:200]
        return text[:500]
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])  # E1, E4, E5
    if isinstance(error, str):
        return error
    detail = body.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # E2: pydantic validation errors
        parts = []
        for item in detail[:10]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
        return "; ".join(parts)
    if isinstance(body.get("message"), str):
        return str(body["message"])  # E6
    return ""


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a server asked for (``retry-after-ms``, then ``Retry-After`` in seconds or as an
    HTTP date), capped at 30 s; None when absent or unreadable (backoff applies then)."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, min(millis / 1000, MAX_RETRY_AFTER))
    value = headers.get("Retry-After")
    if not value:
        return None
    seconds = _number(value)
    if seconds is None:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        seconds = parsed.timestamp() - time.time()
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def _number(value: str | None) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _timeout(transport: Transport, where: str, exc: BaseException, base: str = "") -> APIError:
    import requests

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return APITimeoutError(f"connecting to {base or transport.base_url} timed out after "
                               f"{transport.timeout.connect}s")
    return APITimeoutError(f"{where}: no answer within the read timeout of {transport.timeout.read}s")


def _tls(transport: Transport, where: str, exc: BaseException, base: str = "") -> APIError:
    return APIConnectionError(f"{where}: TLS verification failed ({_short(exc)}); pass verify= to trust another "
                              f"CA bundle")


def _unreachable(transport: Transport, where: str, exc: BaseException, base: str = "") -> APIError:
    return APIConnectionError(f"cannot reach the server at {base or transport.base_url} ({_short(exc)}); is "
                              f"LightLLM running there? Set base_url= or LIGHTLLM_BASE_URL")


def _broken(transport: Transport, where: str, exc: BaseException, base: str = "") -> APIError:
    return APIConnectionError(f"{where}: {_short(exc)}")


def _bad_request(transport: Transport, where: str, exc: BaseException, base: str = "") -> APIError:
    return APIConnectionError(f"{where}: the request could not be sent ({type(exc).__name__}: {_short(exc)})")


_TRANSLATIONS: dict[str, Any] = {}


def _build_table(requests: Any) -> list[tuple[tuple[type[BaseException], ...], Any]]:
    """Ordered (exception kinds, factory): the first match wins, so narrower kinds come first."""
    import urllib3.exceptions as u3

    e = requests.exceptions
    return [
        ((e.Timeout, u3.TimeoutError, socket.timeout, TimeoutError), _timeout),
        ((e.SSLError, u3.SSLError), _tls),
        ((e.ConnectionError, u3.NewConnectionError, ConnectionRefusedError), _unreachable),
        ((e.ChunkedEncodingError, e.ContentDecodingError, u3.ProtocolError, u3.HTTPError, e.RequestException,
          OSError), _broken),
        ((UnicodeError, ValueError, TypeError), _bad_request),
    ]


_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")\]]*")


def _short(exc: BaseException) -> str:
    text = str(exc)
    errno = _ERRNO.search(text)
    if errno:  # "[Errno 111] Connection refused" says it all
        return errno.group(0).strip()
    # urllib3 wraps the useful reason deep inside; keep the end of it
    if "Caused by" in text:
        text = text.split("Caused by", 1)[1].strip(" ()'\"")
    return text[:200]


def _read_some(raw: Any) -> bytes:
    """Whatever has arrived (up to 64 KiB), decoded; never waits to fill a buffer."""
    if not hasattr(raw, "decode_content"):  # not urllib3's response (a caller's adapter): a file object
        read = getattr(raw, "read1", None) or raw.read
        return bytes(read(1 << 16))
    if hasattr(raw, "read1"):
        return bytes(raw.read1(1 << 16, decode_content=True))
    return bytes(raw.read(1 << 16, decode_content=True))  # urllib3 1.x
