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

__all__ = ["DEFAULT_MAX_RESULT_CHARS", "serialize_result"]

DEFAULT_MAX_RESULT_CHARS = 20_000


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
