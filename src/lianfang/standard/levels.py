"""Classification levels (公开/内部/敏感/绝密), named and ordered explicitly.

Levels are never compared as arbitrary numbers: the order is this list, and an
unknown name is an error, not "lowest".
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    SENSITIVE = "sensitive"
    TOP_SECRET = "top_secret"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Level) -> bool:
        return _RANK[self] >= _RANK[other]

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_ORDER: tuple[Level, ...] = (Level.PUBLIC, Level.INTERNAL, Level.SENSITIVE, Level.TOP_SECRET)
_RANK: dict[Level, int] = {level: i for i, level in enumerate(_ORDER)}  # decisions ask this millions of times
_LABELS_ZH = {
    Level.PUBLIC: "公开",
    Level.INTERNAL: "内部",
    Level.SENSITIVE: "敏感",
    Level.TOP_SECRET: "绝密",
}


def parse_level(name: str) -> Level:
    """Return the level called ``name``; raise ``ValueError`` for anything else."""
    try:
        return Level(name)
    except ValueError:
        raise ValueError(f"unknown classification level {name!r}") from None
