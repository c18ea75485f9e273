"""Module-level types for the schema tests (forward references need module scope)."""

from __future__ import annotations

import dataclasses
import enum
from typing import NamedTuple, Optional

from typing_extensions import NotRequired, Required, TypedDict


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Unit(getattr(enum, "StrEnum", str), *(() if hasattr(enum, "StrEnum") else (enum.Enum,))):
    C = "celsius"
    F = "fahrenheit"


@dataclasses.dataclass
class Address:
    """A postal address.

    Attributes:
        street: Street and number.
        city: City name.
    """

    street: str
    city: str = "Paris"


@dataclasses.dataclass
class Person:
    name: str
    address: Address
    nicknames: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TreeNode:
    value: int
    children: list[TreeNode] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Employee:
    name: str
    manager: Optional[Employee] = None


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


class Options(TypedDict, total=False):
    verbose: bool
    level: Required[int]


class Point(NamedTuple):
    x: float
    y: float = 0.0
