"""The standard's YAML loads into consistent objects, and broken YAML is refused."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from lianfang.standard import Level, StandardError, load_standard
from lianfang.standard.loader import _category, _code_table
from lianfang.standard.types import VALUE_TYPES, Context

CATEGORIES = {
    "alert",
    "case",
    "device",
    "help_request",
    "jurisdiction",
    "person",
    "sighting",
    "unit",
    "vehicle",
}


def test_all_nine_categories_load(standard):
    assert set(standard.categories) == CATEGORIES
    assert {c.kind for c in standard.categories.values()} == {"core", "reference"}
    assert len(standard.version) == 12
    assert load_standard() is standard  # cached: the standard is immutable


def test_every_category_is_consistent(standard):
    for category in standard.categories.values():
        assert "city_code" in category.fields
        assert set(category.key) <= set(category.fields)
        for index in category.indexes:
            assert set(index) <= set(category.fields)
        for field in category.fields.values():
            assert field.type in VALUE_TYPES
            assert field.label.zh and field.label.en
            if field.type == "code":
                assert field.code_table in standard.code_tables


def test_personal_and_sensitive_fields_are_encrypted(standard):
    person = standard.category("person")
    assert person.field("citizen_id").encrypted
    assert person.field("phone").encrypted
    assert person.field("person_tag").encrypted  # sensitive, though not personal
    assert not person.field("sex").encrypted
    assert person.default_level is Level.SENSITIVE


def test_every_field_compiles_into_a_normaliser(standard):
    for category in standard.categories.values():
        for field in category.fields.values():
            table = standard.code_table(field.code_table) if field.code_table else None
            assert callable(VALUE_TYPES[field.type].compile(field, table, Context()))


def test_unknown_names_say_what_is_unknown(standard):
    with pytest.raises(KeyError, match="nope"):
        standard.category("nope")
    with pytest.raises(KeyError, match="nope"):
        standard.code_table("nope")
    with pytest.raises(KeyError, match="nope"):
        standard.category("person").field("nope")


# --- broken YAML -----------------------------------------------------------------


def _person_yaml() -> dict[str, Any]:
    text = (
        resources.files("lianfang.standard").joinpath("categories/person.yaml").read_text("utf-8")
    )
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


def _broken(change: str) -> dict[str, Any]:
    raw = copy.deepcopy(_person_yaml())
    fields = raw["fields"]
    if change == "unknown type":
        fields["name"]["type"] = "surname"
    elif change == "unknown code table":
        fields["sex"]["code_table"] = "gender"
    elif change == "code without table":
        del fields["sex"]["code_table"]
    elif change == "label without en":
        fields["name"]["label"] = {"zh": "姓名"}
    elif change == "label not a mapping":
        fields["name"]["label"] = "姓名"
    elif change == "key not a field":
        raw["key"] = ["city_code", "id_number"]
    elif change == "no key":
        raw["key"] = []
    elif change == "no city_code":
        del fields["city_code"]
        raw["key"] = ["citizen_id"]
        raw["indexes"] = []
    elif change == "index not a field":
        raw["indexes"] = [["city_code", "created"]]
    elif change == "category label without en":
        raw["label"] = {"zh": "人员档案"}
    return raw


@pytest.mark.parametrize(
    "change",
    [
        "unknown type",
        "unknown code table",
        "code without table",
        "label without en",
        "label not a mapping",
        "key not a field",
        "no key",
        "no city_code",
        "index not a field",
        "category label without en",
    ],
)
def test_broken_category_is_refused(standard, change):
    tables = dict(standard.code_tables)
    assert _category(_person_yaml(), tables).name == "person"  # the unbroken one loads
    with pytest.raises(StandardError):
        _category(_broken(change), tables)


@pytest.mark.parametrize(("where", "value"), [("field", "secret"), ("default", "classified")])
def test_unknown_level_is_refused(standard, where, value):
    raw = copy.deepcopy(_person_yaml())
    if where == "field":
        raw["fields"]["name"]["level"] = value
    else:
        raw["default_level"] = value
    with pytest.raises(ValueError, match="unknown classification level"):
        _category(raw, dict(standard.code_tables))


def test_broken_code_table_is_refused():
    with pytest.raises(StandardError):
        _code_table({"name": "sex", "label": {"zh": "性别"}, "codes": {}})
    with pytest.raises(StandardError):
        _code_table(
            {"name": "sex", "label": {"zh": "性别", "en": "Sex"}, "codes": {"1": {"zh": "男"}}}
        )


def _labels(node: object, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every {zh, en} mapping in a YAML document, with where it sits."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "zh" in node or "en" in node:
            found.append((where, node))
        for key, value in node.items():
            found += _labels(value, f"{where}.{key}")
    return found


def test_labels_hold_only_zh_and_en():
    root = resources.files("lianfang.standard")
    stray = []
    for folder in ("categories", "codes"):
        for item in sorted(root.joinpath(folder).iterdir(), key=lambda p: p.name):
            if item.name.endswith(".yaml"):
                for where, label in _labels(yaml.safe_load(item.read_text("utf-8")), item.name):
                    if set(label) != {"zh", "en"}:
                        stray.append(where)
    assert stray == []
