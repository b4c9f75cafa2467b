"""The unified data standard as typed objects: categories, fields and code tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lianfang.standard.levels import Level


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class CodeTable:
    name: str
    label: Label
    codes: Mapping[str, Label]
    source: str | None = None

    def __contains__(self, code: object) -> bool:
        return code in self.codes


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: Label
    level: Level
    required: bool = False
    personal: bool = False
    searchable: bool = False
    phonetic: bool = False  # also indexed by sound (toneless pinyin): see lianfang.standard.phonetic
    code_table: str | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None

    @property
    def encrypted(self) -> bool:
        """Personal or sensitive-and-above fields are stored encrypted (SM4)."""
        return self.personal or self.level.at_least(Level.SENSITIVE)


@dataclass(frozen=True)
class Category:
    name: str
    kind: str  # "core" or "reference"
    label: Label
    description: Label
    default_level: Level
    key: tuple[str, ...]
    fields: Mapping[str, Field] = field(default_factory=dict)
    indexes: tuple[tuple[str, ...], ...] = ()  # composite indexes serving known queries

    def field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"category {self.name!r} has no field {name!r}") from None

    @property
    def required_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields.values() if f.required)

    @property
    def time_field(self) -> str | None:
        """The category's event time, newest first in search results (its first required datetime field);
        None where it has none (its records are listed newest stored first)."""
        for fld in self.fields.values():
            if fld.type == "datetime" and fld.required and not fld.encrypted:
                return fld.name
        return None


@dataclass(frozen=True)
class Standard:
    categories: Mapping[str, Category]
    code_tables: Mapping[str, CodeTable]
    version: str

    def category(self, name: str) -> Category:
        try:
            return self.categories[name]
        except KeyError:
            raise KeyError(f"unknown category {name!r}") from None

    def code_table(self, name: str) -> CodeTable:
        try:
            return self.code_tables[name]
        except KeyError:
            raise KeyError(f"unknown code table {name!r}") from None
