"""Tool results as the text sent back to the model."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from typing import NamedTuple

import pydantic
from typing_extensions import TypedDict

from toolkit._results import serialize_result


class Colour(enum.Enum):
    RED = "red"


class Pair(NamedTuple):
    a: int
    b: str


class Row(TypedDict):
    id: int


@dataclasses.dataclass
class Reading:
    at: datetime.date
    value: decimal.Decimal
    colour: Colour


class Model(pydantic.BaseModel):
    when: datetime.datetime
    tags: list[str]


def test_every_kind_becomes_json_with_non_ascii_kept():
    assert serialize_result("plain é") == "plain é"
    assert serialize_result(None) == "null"
    assert serialize_result({"città": "Roma", "n": [1, 2.5]}) == '{"città": "Roma", "n": [1, 2.5]}'
    assert json.loads(serialize_result(Reading(datetime.date(2025, 1, 2), decimal.Decimal("1.5"), Colour.RED))) == \
        {"at": "2025-01-02", "value": 1.5, "colour": "red"}
    assert json.loads(serialize_result(Pair(1, "x"))) == {"a": 1, "b": "x"}
    assert json.loads(serialize_result(Row(id=3))) == {"id": 3}
    assert serialize_result(Colour.RED) == '"red"'
    assert json.loads(serialize_result(Model(when=datetime.datetime(2025, 1, 2, 3, 4), tags=["a"]))) == \
        {"when": "2025-01-02T03:04:00", "tags": ["a"]}
    u = uuid.UUID(int=1)
    assert serialize_result([u, b"hi", {3, 1}]) == f'["{u}", "aGk=", [1, 3]]'
    assert serialize_result(decimal.Decimal("10")) == "10"


def test_long_results_are_cut_with_a_marker():
    assert serialize_result("x" * 30, max_chars=10) == "x" * 10 + "\n...[truncated: 20 more characters]"
    assert serialize_result("x" * 10, max_chars=10) == "x" * 10
