"""Image inputs for ``/generate``: content parts -> ``multimodal_params.images`` entries.

``data:`` URLs are decoded to plain base64; ``http(s)`` URLs are passed for the server to
fetch, or fetched here (size-capped, timed, content-type checked) with ``fetch_images=True``;
local files are read only from directories listed in ``allowed_image_dirs``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import pathlib
import socket
import time
import urllib.parse
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ImagePolicy", "is_public_address"]


MAX_REDIRECTS = 5


class ImagePolicy:
    def __init__(self, *, fetch: bool = False, allowed_dirs: Iterable[Any] | None = None,
                 max_bytes: int = 20 * 1024 * 1024, timeout: float = 10.0, verify: Any = True,
                 allow_private_hosts: bool | Iterable[str] = False) -> None:
        self.verify = verify
        self.fetch = fetch
        self.allowed_dirs = [pathlib.Path(d).resolve() for d in (allowed_dirs or ())]
        self.max_bytes = max_bytes
        self.timeout = timeout
        #: True (any host), False (public addresses only) or names of hosts / host:port allowed
        #: although they resolve to private addresses
        self.allow_private_hosts: bool | frozenset[str] = (
            allow_private_hosts if isinstance(allow_private_hosts, bool)
            else frozenset(h.lower() for h in allow_private_hosts))

    def resolve(self, part: Mapping[str, Any]) -> dict[str, str]:
        """One content part -> ``{"type": "base64" | "url", "data": ...}``.

        Raises:
            ValueError: the source is not allowed or cannot be read (says which and why).
        """
        source = part.get("image_url") if part.get("type") == "image_url" else part.get("image")
        if isinstance(source, Mapping):
            source = source.get("url")
        if not isinstance(source, str) or not source:
            raise ValueError(f"an image part needs a URL string, got {source!r:.60}")
        if source.startswith("data:"):
            return {"type": "base64", "data": _data_url(source)}
        scheme = urllib.parse.urlsplit(source).scheme.lower()
        if scheme in ("http", "https"):
            return {"type": "base64", "data": self._download(source)} if self.fetch else {"type": "url", "data": source}
        if scheme == "file" or (scheme == "" or len(scheme) == 1) and (os.sep in source or source.startswith(".")
                                                                    or os.path.exists(source)):
            return {"type": "base64", "data": self._read_file(source)}
        raise ValueError(f"unsupported image source {source[:60]!r}: use a data: URL, an http(s) URL or a local "
                         f"file in allowed_image_dirs")

    def _read_file(self, source: str) -> str:
        path_text = urllib.parse.unquote(urllib.parse.urlsplit(source).path) if source.startswith("file:") else source
        path = pathlib.Path(path_text).resolve()
        if not any(path == d or d in path.parents for d in self.allowed_dirs):
            raise ValueError(f"local image {path_text!r} is not read: create the client with "
                             f"allowed_image_dirs=[...] containing its folder")
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise ValueError(f"image {path.name} is {size} bytes, over the {self.max_bytes}-byte limit")
            return base64.b64encode(path.read_bytes()).decode("ascii")
        except OSError as exc:
            raise ValueError(f"cannot read image {path_text!r}: {exc.strerror or exc}") from exc

    def check_url(self, url: str) -> None:
        """Refuse a URL the rules do not allow: http(s) only; no private, loopback, link-local or
        unspecified address unless allowed (checked for every redirect hop).

        Raises:
            ValueError: says which rule refused the URL and how to allow it.
        """
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError(f"image URL {url[:80]!r} is refused: only http and https are fetched")
        host = (parts.hostname or "").lower()
        if not host:
            raise ValueError(f"image URL {url[:80]!r} has no host")
        if self.allow_private_hosts is True:
            return
        allowed = self.allow_private_hosts or frozenset()
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        if host in allowed or f"{host}:{port}" in allowed:
            return
        for address in _addresses(host, port):
            if not is_public_address(address):
                raise ValueError(f"image URL {url[:80]!r} is refused: {host} resolves to the non-public address "
                                 f"{address} (pass allow_private_image_hosts=True, or a list of allowed hosts, "
                                 f"to fetch from private networks)")

    def _download(self, url: str) -> str:
        import requests

        # a session of its own: the client's credentials, cookies and proxy auth never reach an image host
        with requests.Session() as session:
            session.trust_env = False  # no .netrc credentials or proxy settings from the environment
            deadline = time.monotonic() + self.timeout
            for _ in range(MAX_REDIRECTS + 1):
                self.check_url(url)
                try:
                    response = session.get(url, stream=True, timeout=(self.timeout, self.timeout), verify=self.verify,
                                           allow_redirects=False, headers={"Accept-Encoding": "gzip, deflate",
                                                                           "Accept": "image/*"})
                except requests.RequestException as exc:
                    raise ValueError(f"cannot download image {url[:80]!r}: {type(exc).__name__}") from exc
                try:
                    if response.is_redirect:
                        location = response.headers.get("Location", "")
                        url = urllib.parse.urljoin(url, location)
                        continue
                    return base64.b64encode(self._read_image(url, response, deadline)).decode("ascii")
                except requests.RequestException as exc:
                    raise ValueError(f"cannot download image {url[:80]!r}: {type(exc).__name__}") from exc
                finally:
                    response.close()
        raise ValueError(f"image URL redirected more than {MAX_REDIRECTS} times")

    def _read_image(self, url: str, response: Any, deadline: float) -> bytes:
        """The body, decoded by us with the size cap applied to the decoded bytes (no decompression bombs)."""
        if response.status_code >= 300:
            raise ValueError(f"cannot download image {url[:80]!r}: HTTP {response.status_code}")
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not kind.startswith("image/"):
            raise ValueError(f"{url[:80]!r} is not an image (Content-Type {kind or 'missing'!r})")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            decoder: Any = zlib.decompressobj(31 if "gzip" in encoding else 15)
        elif encoding in ("", "identity"):
            decoder = None
        else:
            raise ValueError(f"image {url[:80]!r} uses Content-Encoding {encoding!r}, which is not accepted")
        data = bytearray()
        too_large = f"image {url[:80]!r} is larger than the {self.max_bytes}-byte limit"
        while True:
            chunk = response.raw.read(1 << 16, decode_content=False)
            if not chunk:
                break
            if decoder is not None:
                chunk = decoder.decompress(chunk, self.max_bytes + 1 - len(data))
                if decoder.unconsumed_tail:
                    raise ValueError(too_large)
            data += chunk
            if len(data) > self.max_bytes:
                raise ValueError(too_large)
            if time.monotonic() > deadline:
                raise ValueError(f"downloading image {url[:80]!r} took longer than {self.timeout}s")
        if decoder is not None:
            data += decoder.flush()
            if len(data) > self.max_bytes:
                raise ValueError(too_large)
        return bytes(data)


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [ipaddress.ip_address(host).compressed]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"cannot resolve image host {host!r}: {exc}") from None
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


def is_public_address(address: str) -> bool:
    """False for loopback, link-local (169.254/16, fe80::/10), private, unspecified, multicast and
    reserved addresses, and for IPv4 written inside IPv6 (::ffff:10.0.0.1) when the IPv4 is one of those."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified or ip.is_multicast
                or ip.is_reserved)


def _data_url(url: str) -> str:
    header, sep, payload = url.partition(",")
    if not sep:
        raise ValueError("a data: URL needs a ',' before its payload")
    media = header[5:].split(";")[0].lower()
    if media and not media.startswith("image/"):
        raise ValueError(f"the data: URL holds {media!r}, not an image")
    if header.endswith(";base64"):
        try:
            return base64.b64encode(base64.b64decode(payload, validate=True)).decode("ascii")
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"the data: URL is not valid base64 ({exc})") from None
    return base64.b64encode(urllib.parse.unquote_to_bytes(payload)).decode("ascii")
