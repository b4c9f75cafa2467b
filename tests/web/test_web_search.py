"""一键查询, entity and trajectory pages on the tiny demo province (the 滨江 → 云州 story).

A 滨江 investigator searching the story plate sees 滨江's rows in full and 云州's
sightings as masked hits with a prefilled "request access" link; a citizen-ID search
is a POST and the ID never appears in a URL of the page; the vehicle page shows the
owner link and leads to the trajectory, which draws 滨江's points and names 云州 only.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from fastapi import Form
from fastapi.testclient import TestClient
from sqlalchemy import text

from lianfang.api.app import create_app
from lianfang.identity.totp import code_at
from lianfang.platform import Platform

BINJIANG, YUNZHOU = "360100", "360200"
PLATE = "赣A7Q777"
CASE = "A3601002026110001"
STORY = {"purpose": "case_investigation", "case_no": CASE}
_seq = itertools.count(1)
_URL = re.compile(r'(?:href|action|src)="([^"]*)"')
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "Test-Password-2026"


def form_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


@dataclass
class WebUser:
    client: TestClient
    csrf: str

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any], *, csrf: str | None = None) -> httpx.Response:
        return self.client.post(url, data={"csrf_token": self.csrf if csrf is None else csrf, **data})


@pytest.fixture(scope="module")
def suspect_id(tiny_demo: Any) -> str:
    manifest = json.loads((tiny_demo / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest["story"]["suspect"]["citizen_id"])


def sign_in(plat: Platform, roles: list[str], unit: str) -> WebUser:
    name = f"w{next(_seq)}_{roles[0][:4]}_{unit}"
    cred = plat.directory.add(name, display_name=name, unit_code=unit, unit_name=unit, roles=roles,
                              now_ms=int(time.time() * 1000), password=PASSWORD)
    client = TestClient(create_app(plat), base_url="https://testserver", follow_redirects=False)
    token = form_token(client.get("/sign-in").text)
    res = client.post("/sign-in", data={"username": name, "password": PASSWORD,
                                        "code": code_at(cred.totp_secret, time.time()), "csrf_token": token})
    assert res.status_code == 303, res.text
    return WebUser(client, form_token(client.get("/").text))


def urls(html: str) -> list[str]:
    return [unquote(u.replace("&amp;", "&")) for u in _URL.findall(html)]


def rows(html: str, category: str) -> list[tuple[str, str, str]]:
    """(record id, city, access) of the result rows of one category."""
    return re.findall(rf'id="row-{category}-(\d+)" data-city="(\d+)" data-access="(\w+)"', html)


def test_plate_search_shows_own_city_in_full_and_the_other_city_masked(province: Platform) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    form = inv.get("/search")
    assert form.status_code == 200 and 'method="post" action="/search"' in form.text
    assert 'id="nav-search" class="active"' in form.text
    res = inv.post("/search", {"q": "赣a·7q777", **STORY})
    assert res.status_code == 200, res.text
    html = res.text
    assert 'data-kind="plate"' in html and PLATE in html
    vehicles = rows(html, "vehicle")
    assert [(c, a) for _, c, a in vehicles] == [(BINJIANG, "allow")]
    sightings = rows(html, "sighting")
    assert {(c, a) for _, c, a in sightings} >= {(BINJIANG, "allow"), (YUNZHOU, "mask")}
    # every masked 云州 sighting offers the prefilled request form
    links = [u for u in urls(html) if u.startswith("/access/new?")]
    masked_ids = [rid for rid, c, a in sightings if a == "mask"]
    asked = [parse_qs(urlsplit(u).query) for u in links]
    for rid in masked_ids:
        ask = next(q for q in asked if q["keys"] == [f"sighting:{rid}"])
        assert ask["owner_city"] == [YUNZHOU] and ask["level"] == ["sensitive"] and ask["scope"] == ["records"]
        assert ask["case_no"] == [CASE] and ask["purpose"] == ["case_investigation"]
    # rows link to their entity pages carrying purpose and case number; the plate leads to its trajectory
    vid = vehicles[0][0]
    assert f"/entities/vehicle/{vid}?purpose=case_investigation&case_no={CASE}" in urls(html)
    track = next(u for u in urls(html) if u.startswith(f"/trajectories?plate={PLATE}"))
    assert {"since", "until", "purpose", "case_no"} <= set(parse_qs(urlsplit(track).query))  # opens on the days seen
    opened = inv.get(next(u.replace("&amp;", "&") for u in _URL.findall(html) if u.startswith("/trajectories?")))
    assert opened.status_code == 200 and 'id="point-' in opened.text
    assert "案件" in html and "过车" in html  # groups named in Chinese
    assert ' style="' not in html and not re.search(r"<[^>]+\son[a-z]+\s*=", html)  # the CSP allows neither
    assert "Sightings" in inv.post("/search?lang=en", {"q": PLATE, **STORY}).text


def test_citizen_id_search_is_a_post_and_the_id_is_in_no_url(province: Platform, suspect_id: str) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    assert 'id="results"' not in inv.get("/search", params={"q": PLATE}).text  # a GET never searches
    res = inv.post("/search", {"q": suspect_id, **STORY})
    assert res.status_code == 200, res.text
    html = res.text
    assert 'data-kind="citizen_id"' in html
    persons = rows(html, "person")
    assert [(c, a) for _, c, a in persons] == [(YUNZHOU, "mask")]  # 云州's file, masked for 滨江
    masked = suspect_id[:6] + "********" + suspect_id[-4:]
    assert masked in html
    assert all(suspect_id not in u for u in urls(html))
    assert all(suspect_id not in str(r.url) for r in [res, *res.history])
    assert [(c, a) for _, c, a in rows(html, "vehicle")] == [(BINJIANG, "allow")]
    assert any(u.startswith("/access/new?") and f"person:{persons[0][0]}" in u for u in urls(html))


def test_a_result_group_exports_as_csv_by_posting_the_query_again(province: Platform, suspect_id: str) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    page = inv.post("/search", {"q": suspect_id, **STORY}).text
    assert 'id="export-person"' in page and 'action="/search/export"' in page
    res = inv.post("/search/export", {"q": suspect_id, **STORY, "category": "person"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert res.headers["content-disposition"].startswith('attachment; filename="search-person-')
    lines = res.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("access,city_code,classification,id,") and len(lines) == 2
    masked = suspect_id[:6] + "********" + suspect_id[-4:]
    assert lines[1].startswith(f"mask,{YUNZHOU},") and masked in lines[1] and suspect_id not in res.text
    assert all(suspect_id not in str(r.url) for r in [res, *res.history])
    assert inv.post("/search/export", {"q": suspect_id, **STORY, "category": "person"},
                    csrf="wrong").status_code == 403
    assert inv.post("/search/export", {"q": suspect_id, **STORY, "category": "nonsense"}).status_code == 422


def test_refusals_and_unrecognised_queries_say_why(province: Platform) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    res = inv.post("/search", {"q": "!!??", **STORY})
    assert res.status_code == 422 and 'id="search-error"' in res.text and "无法识别" in res.text
    res = inv.post("/search", {"q": PLATE, "purpose": "", "case_no": ""})
    assert res.status_code == 403 and "请选择查询用途" in res.text
    no_case = inv.post("/search", {"q": PLATE, "purpose": "case_investigation"})
    assert no_case.status_code == 200
    assert 'class="notice withheld-count"' in no_case.text  # sightings need a case number: counted, not shown
    assert "填写案件编号后" in no_case.text
    assert inv.post("/search", {"q": PLATE, **STORY}, csrf="wrong").status_code == 403
    auditor = sign_in(province, ["auditor"], "360000")
    assert auditor.get("/search").status_code == 403


def test_a_citizen_id_typed_as_the_case_number_is_refused_on_the_form_without_showing_it(province: Platform,
                                                                                        suspect_id: str) -> None:
    """The audit trail refuses personal data in clear, so the search is refused: the form again, saying why,
    the number not shown back (it was a 500). Other pages answer with the same message on an error page."""
    inv = sign_in(province, ["investigator"], "360102")
    res = inv.post("/search", {"q": PLATE, "purpose": "case_investigation", "case_no": suspect_id})
    assert res.status_code == 400 and 'id="search-error"' in res.text
    assert "不能记录" in res.text and suspect_id not in res.text
    assert inv.post("/search", {"q": PLATE, **STORY}).status_code == 200
    page = inv.get("/trajectories", params={"plate": PLATE, "purpose": "case_investigation", "case_no": suspect_id})
    assert page.status_code == 400 and "不能记录" in page.text and "<html" in page.text


def test_invalid_form_fields_get_an_error_page_naming_them(province: Platform) -> None:
    """A form field beyond its bounds is a 422 page in the user's language naming the field, not JSON, and
    never repeating what was typed; a NUL that PostgreSQL cannot store is a 400 page."""
    inv = sign_in(province, ["investigator"], "360102")
    res = inv.post("/search", {"q": "赣A" + "7" * 100, **STORY})
    assert res.status_code == 422 and res.headers["content-type"].startswith("text/html")
    assert "以下内容不符合要求" in res.text and "q" in res.text and "7" * 100 not in res.text
    app = create_app(province)

    @app.post("/probe-text")
    def probe(v: str = Form("")) -> dict[str, str]:  # a page path whose value reaches a statement as it came
        with province.engine.connect() as conn:
            return {"echo": str(conn.execute(text("SELECT :v"), {"v": v}).scalar())}

    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = form_token(client.get("/sign-in").text)
    res = client.post("/sign-in", data={"username": "w\x00x", "password": PASSWORD, "code": "000000",
                                        "csrf_token": token})
    assert res.status_code < 500 and "lf_session" not in res.headers.get("set-cookie", "")  # no one's name
    res = client.post("/probe-text", data={"v": "追查\x00XQ7"})
    if province.engine.dialect.name == "postgresql":
        assert res.status_code == 400 and "不能保存" in res.text and "XQ7" not in res.text
        assert res.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("url", ["/search?q=%E8%B5%A3A%0012345", "/vehicle/%E8%B5%A3A%00"])
def test_a_page_url_holding_nul_gets_the_error_page(province: Platform, url: str) -> None:
    client = TestClient(create_app(province), base_url="https://testserver", follow_redirects=False)
    res = client.get(url)
    assert res.status_code == 400 and res.headers["content-type"].startswith("text/html")
    assert "网址中含有 NUL 字符" in res.text and "12345" not in res.text
    assert res.headers["X-Frame-Options"] == "DENY" and res.headers["Cache-Control"] == "no-store"
    client.cookies.set("lf_lang", "en")
    assert "The address holds a NUL character" in client.get(url).text


def test_paging_a_category_posts_the_query_again(province: Platform) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    first = inv.post("/search", {"q": PLATE, **STORY, "category": "sighting", "page": "1"})
    assert first.status_code == 200 and 'id="group-sighting"' in first.text and 'id="group-vehicle"' not in first.text
    total = int(re.search(r'id="group-sighting" data-total="(\d+)"', first.text).group(1))  # type: ignore[union-attr]
    size = province.settings.search_page_size
    if total > size:
        assert 'id="page-next-sighting"' in first.text
        second = inv.post("/search", {"q": PLATE, **STORY, "category": "sighting", "page": "2"})
        assert set(rows(second.text, "sighting")).isdisjoint(rows(first.text, "sighting"))


def test_vehicle_page_shows_the_owner_link_and_leads_to_the_trajectory(province: Platform) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    html = inv.post("/search", {"q": PLATE, **STORY}).text
    vid = rows(html, "vehicle")[0][0]
    page = inv.get(f"/entities/vehicle/{vid}", params=STORY)
    assert page.status_code == 200, page.text
    assert 'id="record" data-access="allow" data-city="360100"' in page.text
    assert "号牌号码" in page.text or "车牌" in page.text
    assert PLATE in page.text
    assert 'id="linked-person"' in page.text  # the owner's file (云州), masked
    assert re.search(r'id="linked-person-\d+" data-city="360200" data-access="mask"', page.text)
    assert 'id="linked-sighting"' in page.text
    assert 'id="open-trajectory"' in page.text
    refused = inv.get(f"/entities/vehicle/{vid}")
    assert refused.status_code == 403 and "请选择查询用途" in refused.text
    assert inv.get("/entities/vehicle/999999999", params=STORY).status_code == 404
    assert inv.get(f"/entities/jurisdiction/{vid}", params=STORY).status_code == 404


def test_person_page_of_the_other_city_is_masked_with_request_access(province: Platform, suspect_id: str) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    html = inv.post("/search", {"q": suspect_id, **STORY}).text
    pid = rows(html, "person")[0][0]
    page = inv.get(f"/entities/person/{pid}", params=STORY)
    assert page.status_code == 200, page.text
    assert 'data-access="mask" data-city="360200"' in page.text
    assert suspect_id not in page.text and 'id="request-access"' in page.text
    assert 'id="linked-vehicle"' in page.text and PLATE in page.text


def test_trajectory_page_draws_own_city_and_names_the_masked_city(province: Platform) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    empty = inv.get("/trajectories")
    assert empty.status_code == 200 and 'id="track-form"' in empty.text and 'id="track-data"' not in empty.text
    assert 'id="nav-trajectories" class="active"' in empty.text
    params = {"plate": "赣a7q777", "since": "2026-10-01", "until": "2026-11-01", **STORY}
    res = inv.get("/trajectories", params=params)
    assert res.status_code == 200, res.text
    html = res.text
    assert f'data-plate="{PLATE}"' in html
    data = json.loads(re.search(r'<script type="application/json" id="track-data">(.*?)</script>', html,
                                re.S).group(1))  # type: ignore[union-attr]
    assert [t["label"] for t in data["tracks"]] == [PLATE]
    points = data["tracks"][0]["points"]
    assert points and all(p["lat"] is not None and p["city"] and p["t"] for p in points)
    whens = [p["when"] for p in points]
    assert whens == sorted(whens)  # in time order
    assert [m["city_code"] for m in data["masked"]] == [YUNZHOU]  # named, not placed
    assert set(data["masked"][0]) == {"city_code", "n", "label"} and "云州" in data["masked"][0]["label"]
    timeline = re.findall(r'id="point-(\d+)" class="point-(\w+)([^"]*)" data-access="\w+" data-city="(\d+)"', html)
    assert {(a, c) for _, a, _, c in timeline} == {("allow", BINJIANG), ("mask", YUNZHOU)}
    assert any("crossing" in cls and c == YUNZHOU for _, _, cls, c in timeline)  # 滨江 → 云州 marked
    assert "在云州市某处" in html or "在云州某处" in html
    assert any(u.startswith("/access/new?") and "scope=vehicle" in u and f"keys={PLATE}" in u for u in urls(html))
    exports = [u for u in urls(html) if "/export?" in u]
    assert {parse_qs(urlsplit(u).query)["format"][0] for u in exports} == {"csv", "geojson"}
    raw = [u.replace("&amp;", "&") for u in _URL.findall(html) if "format=csv" in u]
    csv = inv.get(raw[0])
    assert csv.status_code == 200 and PLATE in csv.content.decode("utf-8-sig")
    assert '<script src="/static/vendor/leaflet/leaflet.js"></script>' in html and "/static/track.js" in html
    assert 'id="track-chart"' in html and "/static/vendor/echarts/echarts.min.js" in html  # the time chart
    assert ' style="' not in html and not re.search(r"<[^>]+\son[a-z]+\s*=", html)


def test_trajectory_refusals_say_why(province: Platform) -> None:
    inv = sign_in(province, ["investigator"], "360102")
    no_case = inv.get("/trajectories", params={"plate": PLATE, "purpose": "case_investigation"})
    assert no_case.status_code == 403 and "须填写案件编号" in no_case.text
    bad = inv.get("/trajectories", params={"plate": "not-a-plate", **STORY})
    assert bad.status_code == 400 and 'id="track-error"' in bad.text and "不是有效的号牌号码" in bad.text
    wide = inv.get("/trajectories", params={"plate": PLATE, "since": "2026-01-01", "until": "2026-11-01", **STORY})
    days = province.settings.track_max_days
    assert wide.status_code == 400 and f"时间范围不能超过 {days} 天" in wide.text  # said in the reader's language
    garbled = inv.get("/trajectories/person/1", params={"since": "yesterday", **STORY})
    assert garbled.status_code == 400 and "时间格式应为 ISO 8601" in garbled.text
    backwards = inv.get("/trajectories", params={"plate": PLATE, "since": "2026-10-02", "until": "2026-10-01",
                                                 **STORY, "lang": "en"})  # English from here on
    assert backwards.status_code == 400 and "The start must be before the end." in backwards.text
