"""The trajectory page of a person's vehicles, on the tiny demo province (the 滨江 → 云州 story).

A 滨江 investigator opens the 云州 suspect's file (masked) and follows "view trajectory": the
page is addressed by the file's record ID only, shows the track of the suspect's 滨江 car
(its own colour, 云州's sightings masked and named on their city only) and a second car,
registered in 云州, as a masked hit with "request access" — no plate, no track. No citizen ID,
name or phone appears anywhere in the page.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lianfang.api.app import create_app
from lianfang.identity.totp import code_at
from lianfang.ingest.mapping import load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform

BINJIANG, YUNZHOU = "360100", "360200"
PLATE, OTHER_PLATE = "赣A7Q777", "赣B5K321"
CASE = "A3601002026110001"
STORY = {"purpose": "case_investigation", "case_no": CASE}
WINDOW = {"since": "2026-10-01", "until": "2026-11-01"}
PASSWORD = "Test-Password-2026"
_seq = itertools.count(1)
_URL = re.compile(r'(?:href|action|src)="([^"]*)"')
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

MAPPING = """
mapping: test.person-track.yz
version: 1
city: "360200"
system: PTRACK
source: {format: csv, encoding: utf-8}
feeds:
  - category: vehicle
    match: "yz_vehicles*.csv"
    fields: {plate_no: HPHM, plate_type: HPZL, brand: CLPP, owner_citizen_id: SFZMHM, owner_name: SYR,
             owner_phone: LXDH}
"""


@pytest.fixture(scope="module")
def story(tiny_demo: Path) -> dict[str, Any]:
    manifest = json.loads((tiny_demo / "manifest.json").read_text(encoding="utf-8"))
    return dict(manifest["story"]["suspect"])


@pytest.fixture(scope="module")
def suspect(province: Platform, story: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> int:
    """The suspect's 云州 file; a second car of theirs is registered in 云州 (added for this module)."""
    folder = tmp_path_factory.mktemp("person-track")
    (folder / "yz.yaml").write_text(MAPPING, encoding="utf-8")
    (folder / "yz_vehicles_1.csv").write_text(
        f"HPHM,HPZL,CLPP,SFZMHM,SYR,LXDH\n{OTHER_PLATE},02,丰田卡罗拉,{story['citizen_id']},{story['name']},"
        "13712349876\n", encoding="utf-8")
    mapping = load_mapping(folder / "yz.yaml", province.standard)
    ingestor = Ingestor(engine=province.engine, standard=province.standard, keyring=province.keyring,
                        settings=province.settings, mappings=[mapping])
    assert ingestor.ingest([folder / "yz_vehicles_1.csv"], mapping=mapping).total("accepted") == 1
    p = province.metadata.tables["rec_person"]
    digest = province.blind.digest("citizen_id", story["citizen_id"])
    with province.engine.connect() as conn:
        found = conn.execute(select(p.c.id).where(p.c.citizen_id_bidx == digest, p.c.city_code == YUNZHOU)).all()
    assert len(found) == 1
    return int(found[0][0])


def sign_in(plat: Platform, roles: list[str], unit: str) -> TestClient:
    name = f"pt{next(_seq)}_{roles[0][:4]}_{unit}"
    cred = plat.directory.add(name, display_name=name, unit_code=unit, unit_name=unit, roles=roles,
                              now_ms=int(time.time() * 1000), password=PASSWORD)
    client = TestClient(create_app(plat), base_url="https://testserver", follow_redirects=False)
    found = _TOKEN.search(client.get("/sign-in").text)
    assert found is not None
    res = client.post("/sign-in", data={"username": name, "password": PASSWORD,
                                        "code": code_at(cred.totp_secret, time.time()), "csrf_token": found.group(1)})
    assert res.status_code == 303, res.text
    return client


def urls(html: str) -> list[str]:
    return [unquote(u.replace("&amp;", "&")) for u in _URL.findall(html)]


def track_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="track-data">(.*?)</script>', html, re.S)
    assert found is not None, "no track data on the page"
    return dict(json.loads(found.group(1)))


def test_person_page_links_to_the_trajectory_by_record_id(province: Platform, suspect: int,
                                                          story: dict[str, Any]) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    page = inv.get(f"/entities/person/{suspect}", params=STORY)
    assert page.status_code == 200, page.text
    link = [u for u in urls(page.text) if u.startswith(f"/trajectories/person/{suspect}?")]
    assert link and "purpose=case_investigation" in link[0] and f"case_no={CASE}" in link[0]
    assert all(story["citizen_id"] not in u for u in urls(page.text))


def test_a_yunzhou_persons_vehicles_as_a_binjiang_investigator(province: Platform, suspect: int,
                                                               story: dict[str, Any]) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    res = inv.get(f"/trajectories/person/{suspect}", params={**WINDOW, **STORY})
    assert res.status_code == 200, res.text
    html = res.text
    assert f'id="person-track" data-person="{suspect}" data-access="mask" data-city="{YUNZHOU}"' in html
    # no personal data anywhere: not the ID, the name or a phone (the vehicle records carry them)
    for secret in (story["citizen_id"], story["name"], "13712349876"):
        assert secret not in html
    for pattern in (r"(?<![\d.])\d{17}[\dXx](?![\d.])", r"(?<![\d.])1[3-9]\d{9}(?![\d.])"):
        found = re.search(pattern, html)
        assert found is None, html[found.start() - 80: found.end() + 40]

    # the 滨江 car is followed; the 云州 car is a masked hit: its city and "request access", no plate
    vehicles = re.findall(r'<tr id="vehicle-(\d+)" data-access="(\w+)" data-city="(\d+)"(?: data-plate="([^"]+)")?',
                          html)
    assert {(a, c, p) for _, a, c, p in vehicles} == {("allow", BINJIANG, PLATE), ("mask", YUNZHOU, "")}
    masked_vid = next(v for v, a, _, _ in vehicles if a == "mask")
    assert OTHER_PLATE not in html
    asks = [u for u in urls(html) if u.startswith("/access/new?")]
    assert any(f"owner_city={YUNZHOU}" in u and "scope=records" in u and f"keys=vehicle:{masked_vid}" in u
               and f"case_no={CASE}" in u for u in asks)

    # one track, its own colour; 云州's sightings counted on their city, never placed or timed
    data = track_data(html)
    assert [t["label"] for t in data["tracks"]] == [PLATE] and data["tracks"][0]["colour"]
    points = data["tracks"][0]["points"]
    assert points and all(p["city"] and p["t"] and p["lat"] is not None for p in points)
    assert [p["t"] for p in points] == sorted(p["t"] for p in points)
    assert {p["city"] for p in points} <= {"滨江市", "滨江"}
    assert [m["city_code"] for m in data["masked"]] == [YUNZHOU] and data["masked"][0]["n"] > 0
    assert set(data["masked"][0]) == {"city_code", "n", "label"}
    assert any(p["leaves"] for p in points)  # the crossing into 云州, drawn at the last readable time

    # the timeline table of the followed car: 滨江 in full, 云州 masked with the crossing marked
    allowed_vid = next(v for v, a, _, _ in vehicles if a == "allow")
    table = html[html.index(f'id="timeline-{allowed_vid}"'):]
    table = table[: table.index("</table>")]
    timeline = re.findall(r'id="point-(\d+)" class="point-(\w+)([^"]*)" data-access="\w+" data-city="(\d+)"', table)
    assert {(a, c) for _, a, _, c in timeline} == {("allow", BINJIANG), ("mask", YUNZHOU)}
    assert any("crossing" in cls and c == YUNZHOU for _, _, cls, c in timeline)
    assert any(u.startswith("/access/new?") and "scope=vehicle" in u and f"keys={PLATE}" in u for u in urls(table))

    # the map, the time chart (ECharts) and nothing inline the CSP would refuse
    assert 'id="track-map"' in html and 'id="track-chart"' in html
    for script in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/echarts/echarts.min.js", "/static/track.js",
                   "/static/timeline.js"):
        assert f'<script src="{script}"></script>' in html
    assert ' style="' not in html and not re.search(r"<[^>]+\son[a-z]+\s*=", html)


def test_person_trajectory_refusals(province: Platform, suspect: int) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    no_case = inv.get(f"/trajectories/person/{suspect}", params={"purpose": "case_investigation"})
    assert no_case.status_code == 403 and "须填写案件编号" in no_case.text and 'id="track-form"' in no_case.text
    wide = inv.get(f"/trajectories/person/{suspect}", params={"since": "2026-01-01", "until": "2026-11-01", **STORY})
    assert wide.status_code == 400 and 'id="track-error"' in wide.text
    assert inv.get("/trajectories/person/999999999", params=STORY).status_code == 404
    admin = sign_in(province, ["security_admin"], "360000")
    assert admin.get(f"/trajectories/person/{suspect}", params=STORY).status_code == 403
