"""The generated reference (docs/standard.md) is current; the API export is complete JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lianfang.standard.docs import render_markdown
from lianfang.standard.export import standard_as_dict

DOC = Path(__file__).resolve().parents[2] / "docs" / "standard.md"


def test_docs_standard_md_is_current(standard):
    expected = render_markdown(standard)
    actual = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert actual == expected, (
        "docs/standard.md is stale: it is generated from the YAML. "
        "Regenerate it with `lianfang standard docs` and commit the result."
    )


def test_markdown_is_deterministic_and_covers_everything(standard):
    text = render_markdown(standard)
    assert text == render_markdown(standard)
    assert "lianfang standard docs" in text and "must not be edited by hand" in text
    for category in standard.categories.values():
        assert f"(`{category.name}`)" in text
        assert category.label.zh in text and category.label.en in text
        for field in category.fields.values():
            assert f"| `{field.name}` | {field.label.zh} |" in text
    for table in standard.code_tables.values():
        assert f"(`{table.name}`)" in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_export_is_json_and_lists_every_field(standard):
    doc = standard_as_dict(standard)
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc
    assert doc["version"] == standard.version
    assert [c["name"] for c in doc["categories"]] == list(standard.categories)
    for cat in doc["categories"]:
        category = standard.category(cat["name"])
        assert [f["name"] for f in cat["fields"]] == list(category.fields)
        assert cat["key"] == list(category.key)
        for item in cat["fields"]:
            field = category.field(item["name"])
            assert item["label"] == {"zh": field.label.zh, "en": field.label.en}
            assert item["encrypted"] is field.encrypted
            assert item["level"] == field.level.value
            assert {"type", "required", "personal", "searchable", "code_table"} <= set(item)
    assert {t["name"] for t in doc["code_tables"]} == set(standard.code_tables)
    assert [lv["name"] for lv in doc["levels"]] == ["public", "internal", "sensitive", "top_secret"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_in_one_language_has_plain_labels(standard, lang):
    doc = standard_as_dict(standard, lang)
    person = next(c for c in doc["categories"] if c["name"] == "person")
    citizen_id = next(f for f in person["fields"] if f["name"] == "citizen_id")
    assert citizen_id["label"] == ("公民身份号码" if lang == "zh" else "Citizen ID number")
    sex = next(t for t in doc["code_tables"] if t["name"] == "sex")
    assert {"code": "1", "label": "男" if lang == "zh" else "Male"} in sex["codes"]
    json.dumps(doc, ensure_ascii=False)
