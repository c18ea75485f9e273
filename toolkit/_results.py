"""Tool results -> the text sent back to the model."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import uuid
from typing import Any

from ._defaults import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_RESULT_CHARS

__all__ = ["DEFAULT_MAX_IMAGE_BYTES", "DEFAULT_MAX_RESULT_CHARS", "Image", "serialize_result", "tool_content"]



class Image:
    """An image a tool returns (alone, or in a list with strings): sent to the model as an image.

    ``Image(data=png_bytes)`` or ``Image(path="chart.png")``; ``mime`` defaults from the file's
    suffix (``image/png`` otherwise).
    """

    __slots__ = ("data", "mime", "path")

    def __init__(self, data: bytes | None = None, *, path: str | pathlib.Path | None = None,
                 mime: str | None = None) -> None:
        if (data is None) == (path is None):
            raise ValueError("Image needs exactly one of data=bytes or path=...")
        if data is not None and not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Image data must be bytes, got {type(data).__name__}")
        self.data = bytes(data) if data is not None else None
        self.path = pathlib.Path(path) if path is not None else None
        guessed = _MIMES.get(self.path.suffix.lower()) if self.path is not None else None
        self.mime = mime or guessed or "image/png"
        if not self.mime.startswith("image/"):
            raise ValueError(f"Image mime must be an image/* type, got {self.mime!r}")

    def read(self, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> bytes:
        """The image bytes, refused past ``max_bytes``.

        Raises:
            ValueError: too large, or the file cannot be read.
        """
        if self.data is not None:
            data = self.data
        else:
            assert self.path is not None
            try:
                size = self.path.stat().st_size
                if size > max_bytes:
                    raise ValueError(f"image {self.path.name} is {size} bytes, over the {max_bytes}-byte limit")
                data = self.path.read_bytes()
            except OSError as exc:
                raise ValueError(f"cannot read image {self.path}: {exc.strerror or exc}") from exc
        if len(data) > max_bytes:
            raise ValueError(f"the image is {len(data)} bytes, over the {max_bytes}-byte limit (max_image_bytes)")
        return data

    def data_url(self, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.read(max_bytes)).decode("ascii")

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else f"{len(self.data or b'')} bytes"
        return f"Image({where}, {self.mime})"


_MIMES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp", ".bmp": "image/bmp"}


def tool_content(value: Any, max_chars: int = DEFAULT_MAX_RESULT_CHARS,
                 max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> tuple[str, list[dict[str, Any]] | None]:
    """A tool's return value -> (its text, content parts when it holds images, else None).

    The text of a result with images names each image ``[image 1]``... so that a transcript
    printed as text still says where they were.
    """
    items = value if isinstance(value, list) and any(isinstance(v, Image) for v in value) else \
        [value] if isinstance(value, Image) else None
    if items is None:
        return serialize_result(value, max_chars), None
    parts: list[dict[str, Any]] = []
    texts: list[str] = []
    images = 0
    for item in items:
        if isinstance(item, Image):
            images += 1
            parts.append({"type": "image_url", "image_url": {"url": item.data_url(max_image_bytes)}})
            texts.append(f"[image {images}]")
        else:
            text = serialize_result(item, max_chars)
            parts.append({"type": "text", "text": text})
            texts.append(text)
    return "\n".join(texts), parts


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # pydantic
        return model_dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (uuid.UUID, pathlib.PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    as_dict = getattr(value, "_asdict", None)
    if callable(as_dict):
        return as_dict()
    return repr(value)


def serialize_result(value: Any, max_chars: int = DEFAULT_MAX_RESULT_CHARS) -> str:
    """str as is; None as "null"; everything else as JSON (non-ASCII kept); capped with a marker."""
    if isinstance(value, str):
        text = value
    elif hasattr(value, "_asdict") and isinstance(value, tuple):  # NamedTuple: an object, not an array
        text = json.dumps(value._asdict(), ensure_ascii=False, default=_default)  # type: ignore[attr-defined]
    else:
        text = json.dumps(value, ensure_ascii=False, default=_default)
    if max_chars and len(text) > max_chars:
        cut = len(text) - max_chars
        text = text[:max_chars] + f"\n...[truncated: {cut} more characters]"
    return text
