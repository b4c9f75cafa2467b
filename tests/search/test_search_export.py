"""Search results as a CSV file: the same policy as the search, audited as an export.

On the tiny demo province: a 滨江 investigator exports the sightings of 赣A7Q777 and the
person files of the suspect (whose file lives in 云州). Readable rows come in full,
云州's rows as masked hits, rows the reader may not see at all are left out and
counted; the file name and the headers never carry the query; the audit trail holds one
``data.export`` event with the row count.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from search_helpers import CASE, PLATE, YUNZHOU, last_event, user_client  # registered by conftest.py
from sqlalchemy import text

from lianfang.platform import Platform
from lianfang.search.export import FIRST, search_csv
from lianfang.standard.levels import Level


def export(client: Any, q: str, category: str, **extra: Any) -> Any:
    body = {"q": q, "category": category, "purpose": "case_investigation", "case_no": CASE, **extra}
    return client.post("/api/v1/search/export", json=body)


def rows(res: Any) -> list[dict[str, str]]:
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/csv")
    assert res.content.startswith("\ufeff".encode())  # spreadsheets read the Chinese
    return list(csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))))


def test_an_export_holds_what_the_search_shows_and_nothing_more(province: Platform) -> None:
    inv, _ = user_client(province, ["investigator"], "360102")
    searched = inv.post("/api/v1/search", json={"q": PLATE, "purpose": "case_investigation", "case_no": CASE,
                                                "category": "sighting", "size": 100}).json()
    shown = next(g for g in searched["groups"] if g["category"] == "sighting")
    res = export(inv, PLATE, "sighting")
    got = rows(res)
    assert [int(r["id"]) for r in got] == [i["id"] for i in shown["items"]]  # same rows, same order
    assert res.headers["x-lianfang-rows"] == str(len(got)) and res.headers["x-lianfang-truncated"] == "0"
    assert res.headers["x-lianfang-total"] == str(shown["total"])
    readable = [r for r in got if r["access"] == "allow"]
    masked = [r for r in got if r["access"] == "mask"]
    assert readable and masked
    assert all(r["plate_no"] == PLATE and r["lineage_file_id"] for r in readable)
    # 云州's movements: a masked hit says where, not when or at which checkpoint
    assert all(r["city_code"] == YUNZHOU and not r["passed_at"] and not r["device_id"]
               and not r["lineage_file_id"] for r in masked)
    assert 'filename="search-sighting-' in res.headers["content-disposition"]
    assert PLATE not in res.headers["content-disposition"]


def test_a_masked_person_is_exported_masked_and_the_id_stays_out_of_the_trail(
        province: Platform, suspect_id: str) -> None:
    inv, name = user_client(province, ["investigator"], "360102")
    res = export(inv, suspect_id, "person")
    (person,) = rows(res)
    assert person["access"] == "mask" and person["city_code"] == YUNZHOU
    assert person["citizen_id"] == suspect_id[:6] + "********" + suspect_id[-4:]
    assert suspect_id not in res.text and suspect_id not in json.dumps(dict(res.headers))
    event = last_event(province)
    assert (event.action, event.username, event.result_count, event.outcome) == ("data.export", name, 1, "mask")
    detail = json.loads(event.detail)
    assert detail["format"] == "csv" and detail["category"] == "person" and detail["masked"] == 1
    assert suspect_id not in json.dumps(event._asdict(), default=str)


def test_rows_the_reader_may_not_see_are_left_out_and_counted(province: Platform) -> None:
    inv, _ = user_client(province, ["investigator"], "360102")
    # without a case number sensitive rows (sightings: movement data) are not even masked hits
    res = inv.post("/api/v1/search/export", json={"q": PLATE, "category": "sighting", "purpose": "identity_check"})
    assert rows(res) == []
    assert int(res.headers["x-lianfang-withheld"]) > 0


def test_an_export_is_capped_and_says_so(province: Platform) -> None:
    inv, _ = user_client(province, ["investigator"], "360102")
    province.settings.search_export_max_rows = 2
    try:
        res = export(inv, PLATE, "sighting")
    finally:
        province.settings.search_export_max_rows = 1000
    assert len(rows(res)) <= 2 and res.headers["x-lianfang-truncated"] == "1"


@pytest.mark.parametrize(("body", "status"), [
    ({"q": PLATE, "purpose": "case_investigation", "case_no": CASE}, 422),  # no category
    ({"q": PLATE, "category": "nonsense", "purpose": "case_investigation", "case_no": CASE}, 400),
    ({"q": PLATE, "category": "vehicle", "purpose": "case_investigation", "case_no": CASE, "format": "xlsx"}, 422),
    ({"q": PLATE, "category": "vehicle"}, 403),  # no purpose
])
def test_refusals(province: Platform, body: dict[str, Any], status: int) -> None:
    inv, _ = user_client(province, ["investigator"], "360102")
    assert inv.post("/api/v1/search/export", json=body).status_code == status


def test_formula_text_is_defused_and_withheld_fields_are_empty(province: Platform) -> None:
    category = province.standard.category("person")
    item = {"access": "mask", "city_code": YUNZHOU, "classification": Level.SENSITIVE.value, "id": 7,
            "values": {}, "masked": {"name": "=HYPERLINK(\"x\")"}, "withheld": ["phone"]}
    (row,) = csv.DictReader(io.StringIO(search_csv(category, [item]).lstrip("\ufeff")))
    assert row["name"] == "'=HYPERLINK(\"x\")" and row["phone"] == "" and list(row)[:4] == list(FIRST)


def test_exports_are_counted_for_the_bulk_export_alarm(province: Platform) -> None:
    inv, name = user_client(province, ["investigator"], "360102")
    assert rows(export(inv, PLATE, "sighting"))
    with province.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_event WHERE username = :u ORDER BY seq"), {"u": name})]
    assert actions == ["data.export"]  # one event for the export, not a search and an export
