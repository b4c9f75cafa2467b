"""Load the standard from the YAML files shipped in this package (one per category)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

from lianfang.standard.levels import Level, parse_level
from lianfang.standard.model import Category, CodeTable, Field, Label, Standard
from lianfang.standard.types import VALUE_TYPES
from lianfang.standard.yamltext import load_yaml


class StandardError(ValueError):
    """The standard's YAML is inconsistent (unknown type, code table, key field...)."""


def _label(raw: Any, where: str) -> Label:
    if not isinstance(raw, dict) or not raw.get("zh") or not raw.get("en"):
        raise StandardError(f"{where}: label needs both zh and en")
    return Label(zh=str(raw["zh"]), en=str(raw["en"]))


def _code_table(raw: dict[str, Any]) -> CodeTable:
    name = str(raw["name"])
    codes = {str(k): _label(v, f"code table {name} code {k}") for k, v in raw["codes"].items()}
    return CodeTable(
        name=name, label=_label(raw["label"], name), codes=codes, source=raw.get("source")
    )


_FIELD_KEYS = frozenset(
    {
        "type",
        "required",
        "level",
        "personal",
        "searchable",
        "phonetic",
        "code_table",
        "max_length",
        "min",
        "max",
        "label",
    }
)
_CATEGORY_KEYS = frozenset(
    {"name", "kind", "label", "description", "default_level", "key", "indexes", "fields"}
)


def _level(raw: Any, where: str) -> Level:
    try:
        return parse_level(str(raw))
    except ValueError as exc:
        raise StandardError(f"{where}: {exc}") from None


def _field(name: str, raw: dict[str, Any], cat: str, tables: dict[str, CodeTable]) -> Field:
    where = f"{cat}.{name}"
    unknown = sorted(set(raw) - _FIELD_KEYS)
    if unknown:
        raise StandardError(f"{where}: unknown keys {unknown} (a typo?)")
    ftype = str(raw.get("type", ""))
    if ftype not in VALUE_TYPES:
        raise StandardError(f"{where}: unknown value type {ftype!r}")
    table = raw.get("code_table")
    if ftype == "code" and table not in tables:
        raise StandardError(f"{where}: unknown code table {table!r}")
    if ftype != "code" and table is not None:
        raise StandardError(f"{where}: only code fields take a code_table")
    if raw.get("phonetic") and not (ftype == "person_name" and raw.get("searchable")):
        raise StandardError(f"{where}: only searchable person_name fields can be phonetic")
    return Field(
        name=name,
        type=ftype,
        label=_label(raw.get("label"), where),
        level=_level(raw.get("level", ""), where),
        required=bool(raw.get("required", False)),
        personal=bool(raw.get("personal", False)),
        searchable=bool(raw.get("searchable", False)),
        phonetic=bool(raw.get("phonetic", False)),
        code_table=table,
        max_length=raw.get("max_length"),
        min=raw.get("min"),
        max=raw.get("max"),
    )


def _category(raw: dict[str, Any], tables: dict[str, CodeTable]) -> Category:
    name = str(raw["name"])
    unknown = sorted(set(raw) - _CATEGORY_KEYS)
    if unknown:
        raise StandardError(f"{name}: unknown keys {unknown} (a typo?)")
    fields = {fname: _field(fname, fraw, name, tables) for fname, fraw in raw["fields"].items()}
    key = tuple(raw.get("key", ()))
    missing = [k for k in key if k not in fields]
    if not key or missing:
        raise StandardError(
            f"{name}: key fields {missing or '(none)'} are not fields of the category"
        )
    indexes = tuple(tuple(str(c) for c in ix) for ix in raw.get("indexes", ()))
    bad = sorted({c for ix in indexes for c in ix if c not in fields})
    if bad:
        raise StandardError(f"{name}: index columns {bad} are not fields of the category")
    if "city_code" not in fields:
        raise StandardError(f"{name}: every category carries its owning city_code")
    return Category(
        name=name,
        kind=str(raw.get("kind", "core")),
        label=_label(raw["label"], name),
        description=_label(raw["description"], name),
        default_level=_level(raw["default_level"], name),
        key=key,
        fields=fields,
        indexes=indexes,
    )


@cache
def load_standard() -> Standard:
    """Read and check every YAML file of the standard. Cached: the standard is immutable."""
    root = resources.files("lianfang.standard")
    digest = hashlib.sha256()
    tables: dict[str, CodeTable] = {}
    for item in sorted(root.joinpath("codes").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            text = item.read_text(encoding="utf-8")
            digest.update(text.encode())
            table = _code_table(load_yaml(text))
            tables[table.name] = table
    categories: dict[str, Category] = {}
    for item in sorted(root.joinpath("categories").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            text = item.read_text(encoding="utf-8")
            digest.update(text.encode())
            category = _category(load_yaml(text), tables)
            categories[category.name] = category
    return Standard(categories=categories, code_tables=tables, version=digest.hexdigest()[:12])
