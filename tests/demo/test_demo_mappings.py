"""The shipped mappings: generated from the layouts, complete, and true to the files."""

from __future__ import annotations

from typing import Any

import demo_support as support

from lianfang.demo import write_mappings


def test_shipped_yaml_equals_the_generator_output() -> None:
    expected = write_mappings.expected_files()
    shipped = {p.name: p.read_text(encoding="utf-8") for p in support.MAPPINGS.glob("*.yaml")}
    assert shipped.keys() == expected.keys(), "run: python -m lianfang.demo.write_mappings"
    for name, text in expected.items():
        assert shipped[name] == text, f"{name} is stale: run python -m lianfang.demo.write_mappings"


def test_mappings_are_well_formed_against_the_standard() -> None:
    cats, tables = support.categories(), support.code_tables()
    ids = set()
    for mapping in support.mappings().values():
        assert mapping["mapping"] not in ids
        ids.add(mapping["mapping"])
        assert mapping["version"] >= 1 and len(mapping["city"]) == 6
        for feed in mapping["feeds"]:
            fields = cats[feed["category"]]["fields"]
            assert set(feed["fields"]) <= set(fields), feed["match"]
            required = {n for n, f in fields.items() if f.get("required")} - {"city_code"}
            assert required <= set(feed["fields"]), (feed["match"], required - set(feed["fields"]))
            for target, rule in feed["fields"].items():
                if isinstance(rule, dict) and "map" in rule:
                    vmap = mapping["value_maps"][rule["map"]]
                    table = fields[target]["code_table"]
                    bad = {v for v in vmap.values() if v not in tables[table]}
                    assert not bad, (mapping["mapping"], target, bad)
    assert len(ids) == 23


def _sources(feed: dict[str, Any]) -> set[str]:
    out = set()
    for rule in feed["fields"].values():
        if isinstance(rule, dict) and "const" in rule:
            continue
        sources = rule if isinstance(rule, str) else rule["from"]
        out |= {sources} if isinstance(sources, str) else set(sources)
    return out | ({feed["source_id"]} if "source_id" in feed else set())


def test_every_mapped_column_exists_in_its_files(small: Any) -> None:
    """Header formats (CSV, sheets) carry every column in every file. XML and GA/T 1400
    leave out empty values, so there a column must appear in some file of the layout
    (南屏's capture file holds faces only: no plate elements at all)."""
    seen_by_layout: dict[tuple[str, str], set[str]] = {}
    wanted_by_layout: dict[tuple[str, str], set[str]] = {}
    for path, file in small.files.items():
        fmt = support.source_of(file.mapping, file.feed)["format"]
        wanted = _sources(file.feed)
        if fmt in ("csv", "xlsx", "jsonl"):
            assert wanted <= set(file.columns), (path, wanted - set(file.columns))
        layout = (file.mapping["system"].split("-")[1], file.category)
        seen_by_layout.setdefault(layout, set()).update(file.columns)
        wanted_by_layout.setdefault(layout, set()).update(wanted)
    for layout, wanted in wanted_by_layout.items():
        assert wanted <= seen_by_layout[layout], (layout, wanted - seen_by_layout[layout])


def test_every_standard_field_a_system_exports_is_mapped(small: Any) -> None:
    # a column named after nothing in the standard is fine; a column the layout marks as
    # carrying a standard field must be mapped (checked in the layouts themselves)
    from lianfang.demo.systems import SYSTEMS

    for system in SYSTEMS.values():
        for layout in system.layouts.values():
            fields = support.categories()[layout.category]["fields"]
            for col in layout.columns:
                if col.mapped:
                    assert col.field in fields, (system.key, layout.category, col.field)
