"""The standard as JSON-ready data: ``GET /api/v1/standard``, ``lianfang standard show --json``.

With ``lang`` (``"zh"`` or ``"en"``) every label is a string in that language;
without it a label is ``{"zh": ..., "en": ...}``. Order follows the standard:
categories and code tables as loaded, fields and codes as written in the YAML.
"""

from __future__ import annotations

from typing import Any

from lianfang.standard.levels import Level
from lianfang.standard.model import Category, CodeTable, Field, Label, Standard

# levels.py names levels in Chinese only; the API also serves English.
_LEVEL_EN = {
    Level.PUBLIC: "Public",
    Level.INTERNAL: "Internal",
    Level.SENSITIVE: "Sensitive",
    Level.TOP_SECRET: "Top secret",
}


def _label(label: Label, lang: str | None) -> str | dict[str, str]:
    return {"zh": label.zh, "en": label.en} if lang is None else label.get(lang)


def field_as_dict(field: Field, lang: str | None = None) -> dict[str, Any]:
    return {
        "name": field.name,
        "type": field.type,
        "label": _label(field.label, lang),
        "required": field.required,
        "level": field.level.value,
        "personal": field.personal,
        "searchable": field.searchable,
        "encrypted": field.encrypted,
        "code_table": field.code_table,
        "max_length": field.max_length,
        "min": field.min,
        "max": field.max,
    }


def category_as_dict(category: Category, lang: str | None = None) -> dict[str, Any]:
    return {
        "name": category.name,
        "kind": category.kind,
        "label": _label(category.label, lang),
        "description": _label(category.description, lang),
        "default_level": category.default_level.value,
        "key": list(category.key),
        "indexes": [list(index) for index in category.indexes],
        "fields": [field_as_dict(f, lang) for f in category.fields.values()],
    }


def code_table_as_dict(table: CodeTable, lang: str | None = None) -> dict[str, Any]:
    return {
        "name": table.name,
        "label": _label(table.label, lang),
        "source": table.source,
        "codes": [
            {"code": code, "label": _label(label, lang)} for code, label in table.codes.items()
        ],
    }


def standard_as_dict(standard: Standard, lang: str | None = None) -> dict[str, Any]:
    """Version, classification levels (lowest first), categories with fields, code tables."""
    levels = [
        {
            "name": lv.value,
            "rank": lv.rank,
            "label": _label(Label(lv.label_zh, _LEVEL_EN[lv]), lang),
        }
        for lv in sorted(Level, key=lambda lv: lv.rank)
    ]
    return {
        "version": standard.version,
        "levels": levels,
        "categories": [category_as_dict(c, lang) for c in standard.categories.values()],
        "code_tables": [code_table_as_dict(t, lang) for t in standard.code_tables.values()],
    }
