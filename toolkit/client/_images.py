"""Image inputs for ``/generate``: content parts -> ``multimodal_params.images`` entries.

``data:`` URLs are decoded to plain base64; ``http(s)`` URLs are passed for the server to
fetch, or fetched here (size-capped, timed, content-type checked) with ``fetch_images=True``;
local files are read only from directories listed in ``allowed_image_dirs``.
"""

from __future__ import annotations

import base64
import binascii
import os
import pathlib
import urllib.parse
from typing import Any, Iterable, Mapping

__all__ = ["ImagePolicy"]


class ImagePolicy:
    def __init__(self, *, fetch: bool = False, allowed_dirs: Iterable[Any] | None = None,
                 max_bytes: int = 20 * 1024 * 1024, timeout: float = 10.0, session: Any = None,
                 verify: Any = True) -> None:
        self.verify = verify
        self.fetch = fetch
        self.allowed_dirs = [pathlib.Path(d).resolve() for d in (allowed_dirs or ())]
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.session = session

    def resolve(self, part: Mapping[str, Any]) -> dict:
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

    def _download(self, url: str) -> str:
        import time

        import requests

        session = self.session or requests.Session()
        try:
            response = session.get(url, stream=True, timeout=(self.timeout, self.timeout), verify=self.verify)
        except requests.RequestException as exc:
            raise ValueError(f"cannot download image {url[:80]!r}: {type(exc).__name__}") from exc
        try:
            if response.status_code >= 300:
                raise ValueError(f"cannot download image {url[:80]!r}: HTTP {response.status_code}")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise ValueError(f"{url[:80]!r} is not an image (Content-Type {kind or 'missing'!r})")
            deadline = time.monotonic() + self.timeout
            data = bytearray()
            for chunk in response.iter_content(1 << 16):
                data += chunk
                if len(data) > self.max_bytes:
                    raise ValueError(f"image {url[:80]!r} is larger than the {self.max_bytes}-byte limit")
                if time.monotonic() > deadline:
                    raise ValueError(f"downloading image {url[:80]!r} took longer than {self.timeout}s")
            return base64.b64encode(bytes(data)).decode("ascii")
        except requests.RequestException as exc:
            raise ValueError(f"cannot download image {url[:80]!r}: {type(exc).__name__}") from exc
        finally:
            response.close()


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
