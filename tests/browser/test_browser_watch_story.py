"""In chromium, on the tiny demo province, the 滨江 → 云州 story up to the watch-list hit.

A 滨江 investigator searches the story plate, follows its trajectory across the border into
云州 (masked there), opens the suspect's 云州 person file (masked), asks for access from it; the
滨江 city approver grants it in another browser; the investigator reloads the file and reads it
in full, puts the plate on a watch list, and — when a 滨江 checkpoint's new sighting of the plate
is ingested — sees the hit arrive in the live panel without reloading. Screenshots of each step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from lianfang.ingest.mapping import load_mapping
from lianfang.ingest.pipeline import Ingestor

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASE = "A3601002026110001"
PLATE = "赣A7Q777"
BORDER_CHECKPOINT = "36010100001210000001"  # G320国道滨江云州界卡口, a 滨江 checkpoint on the 云州 border
WAIT_MS = 15_000  # every wait is bounded; the hit itself is expected well within a second

# a 滨江 checkpoint system exporting its passes as CSV, read through the ordinary ingestion path
MAPPING = """
mapping: test.browser.bj-kakou
version: 1
city: "360100"
system: KAKOU
source: {format: csv, encoding: utf-8}
formats: ["%Y%m%d%H%M%S"]
feeds:
  - category: sighting
    match: "bj_kakou_*.csv"
    source_id: XH
    fields: {kind: LX, device_id: KKBH, passed_at: GCSJ, plate_no: HPHM}
"""


def ingest_new_sighting(plat: Any, folder: Path) -> None:
    """One new pass of the plate at the border checkpoint, ingested by an Ingestor wired to the watch
    matcher exactly as ``lianfang ingest`` and the API wire theirs."""
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    at = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(minutes=1)).strftime("%Y%m%d%H%M%S")
    (folder / "bj_kakou_1.csv").write_text(f"XH,LX,KKBH,GCSJ,HPHM\n1,vehicle,{BORDER_CHECKPOINT},{at},{PLATE}\n",
                                           encoding="utf-8")
    ing = Ingestor(engine=plat.engine, standard=plat.standard, keyring=plat.keyring, settings=plat.settings,
                   mappings=[load_mapping(folder / "mapping.yaml", plat.standard)], on_stored=plat.watch.matcher)
    result = ing.ingest([folder / "bj_kakou_1.csv"])
    assert result.total("accepted") == 1


def push_yunzhou_pass(server: Any, demo: Path) -> str:
    """A GA/T 1400 ``POST /VIID/MotorVehicles`` from 云州's checkpoint system (a 云州 steward's token with
    scope viid:push) to the live server; returns the checkpoint's device ID."""
    plat = server.platform
    now = int(time.time() * 1000)
    plat.directory.add("yz_kakou_watch", display_name="云州卡口系统", unit_code="360202", unit_name="云州市公安局",
                       roles=["steward"], now_ms=now, password="Kakou-System-Password-2026")
    secret = plat.tokens.create("yz_kakou_watch", "kakou", {"viid:push"}, days=1, now_ms=now)[1]
    devices = json.loads((demo / "geo" / "devices.geojson").read_text(encoding="utf-8"))["features"]
    tollgate = next(str(f["properties"]["device_id"]) for f in devices
                    if f["properties"]["city_code"] == "360200" and f["properties"]["device_kind"] == "checkpoint")
    at = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(minutes=1)).strftime("%Y%m%d%H%M%S")
    source = f"{tollgate}02{at}00001"
    body = {"MotorVehicleListObject": {"MotorVehicleObject": [{
        "MotorVehicleID": f"{source}0200001", "InfoKind": 1, "SourceID": source, "TollgateID": tollgate,
        "DeviceID": tollgate, "LaneNo": 1, "HasPlate": "1", "PlateClass": "02", "PlateColor": "5",
        "PlateNo": PLATE, "Speed": 58, "Direction": "1", "VehicleClass": "K33", "VehicleColor": "1",
        "PassTime": at}]}}
    res = httpx.post(f"{server.url}/VIID/MotorVehicles", content=json.dumps(body, ensure_ascii=False).encode(),
                     headers={"Authorization": f"Bearer {secret}",
                              "Content-Type": "application/VIID+JSON;charset=UTF-8"}, timeout=WAIT_MS / 1000)
    assert res.status_code == 200, res.text
    (status,) = res.json()["ResponseStatusListObject"]["ResponseStatusObject"]
    assert status["StatusCode"] == 0, status
    return tollgate


def test_from_search_to_a_live_watch_list_hit(province_server: Any, new_page: Callable[..., Any],
                                              sign_in: Callable[..., None], shot: Callable[[Any, str], Any],
                                              tiny_demo: Path, tmp_path: Path) -> None:
    story = json.loads((tiny_demo / "manifest.json").read_text(encoding="utf-8"))["story"]
    suspect_name = story["suspect"]["name"]
    inv = province_server.add_user("bj_inv_watch", ["investigator"], "360102", display_name="陈侦查",
                                   unit_name="滨江市公安局刑侦支队")
    appr = province_server.add_user("bj_appr_watch", ["city_approver"], "360100", display_name="周审批",
                                    unit_name="滨江市公安局")

    # 1. the 滨江 investigator searches the plate (a POST: nothing typed goes in the address)
    me = new_page(province_server)
    sign_in(me, inv)
    me.click("#nav-search")
    me.fill("#q", PLATE)
    me.select_option("#purpose", "case_investigation")
    me.fill("#case_no", CASE)
    me.click("#search-go")
    me.wait_for_selector("#results", timeout=WAIT_MS)
    vehicle = me.locator("#group-vehicle tr.record").first
    assert vehicle.get_attribute("data-access") == "allow" and PLATE in vehicle.inner_text()
    shot(me, "01-search-results")

    # 2. the vehicle page, then its trajectory: 滨江's points drawn, the crossing into 云州 marked,
    #    云州's sightings named by city only
    vehicle.locator("a.open").click()
    me.wait_for_selector("#record", timeout=WAIT_MS)
    vehicle_page = me.url
    me.click("#open-trajectory")
    me.wait_for_selector('#track-map[data-ready="true"]', timeout=WAIT_MS)
    crossing = me.locator('#timeline tr.crossing[data-city="360200"]')
    assert crossing.count() >= 1 and "进入云州" in crossing.first.inner_text()
    masked_point = me.locator('#timeline tr[data-access="mask"][data-city="360200"]').first
    assert "在云州市某处" in masked_point.inner_text()
    assert me.locator("#open-watch").count() == 1
    shot(me, "02-trajectory-into-yunzhou")

    # 3. the owner's person file lives in 云州: masked, with "request access"
    me.goto(vehicle_page)
    owner = me.locator('#linked-person [data-access="mask"][data-city="360200"]').first
    owner.locator("a.open").click()
    me.wait_for_selector("#record", timeout=WAIT_MS)
    person_page = me.url
    assert me.locator("#record").get_attribute("data-access") == "mask"
    assert me.locator("#record .mask-note").count() >= 1
    assert suspect_name not in me.locator("#record").inner_text()
    shot(me, "03-person-file-masked")

    # 4. request access from the file: the form comes prefilled; purpose and case number sent with it
    me.click("#request-access")
    me.wait_for_selector("#request-form", timeout=WAIT_MS)
    assert me.locator("input[name=owner_city]").input_value() == "360200"
    assert me.locator("textarea[name=keys]").input_value().startswith("person:")
    me.select_option("select[name=purpose]", "case_investigation")
    me.fill("input[name=case_no]", CASE)
    me.fill("textarea[name=purpose_text]", "滨江连环盗窃案嫌疑车辆车主，需核查其云州人员档案")
    shot(me, "04-request-form")
    me.click("#submit-request")
    me.wait_for_selector("#flash", timeout=WAIT_MS)
    assert me.locator("#requests tbody tr").first.get_attribute("data-status") == "pending"
    shot(me, "05-request-pending")

    # 5. the 滨江 city approver, in a second browser, approves
    boss = new_page(province_server)
    sign_in(boss, appr)
    boss.click("#nav-approvals")
    request = boss.locator("#queue article.request", has_text="滨江连环盗窃案嫌疑车辆车主").first
    request.locator("form.approve input[name=reason]").fill("案情属实，同意查询")
    request.locator("form.approve input[name=hours]").fill("24")
    shot(boss, "06-approver-queue")
    request.locator("form.approve button").click()
    boss.wait_for_selector("#flash", timeout=WAIT_MS)
    assert boss.locator("#granted tbody tr").first.get_attribute("data-status") == "active"
    shot(boss, "07-approved")

    # 6. back as the investigator: the same file, now in full
    me.goto(person_page)
    me.wait_for_selector("#record", timeout=WAIT_MS)
    assert me.locator("#record").get_attribute("data-access") == "allow"
    assert me.locator("#record .mask-note").count() == 0
    assert suspect_name in me.locator("#record-fields").inner_text()
    shot(me, "08-person-file-full")

    # 7. watch the plate. The grant just approved is for the person file (scope "records", the person's
    #    key): it does not open the vehicle's 云州 sightings, so the page refuses 云州 and offers
    #    "request access" for it; the watch is then set on 滨江, the investigator's own city, which the
    #    policy allows without a grant.
    me.goto(vehicle_page)
    me.click("#open-watch")
    me.wait_for_selector("#watch-form", timeout=WAIT_MS)
    assert me.locator("#watch-plate").input_value() == PLATE
    assert me.locator("#watch-case-no").input_value() == CASE
    assert me.locator("#scope-360100").is_checked()
    me.fill("#watch-reason", "盗窃案嫌疑车辆，发现即报")
    me.check("#scope-360200")
    me.click("#watch-add")
    me.wait_for_selector("#watch-error", timeout=WAIT_MS)
    assert me.locator("#watch-error").get_attribute("data-reason") == "watch.needs_grant"
    ask_yunzhou = me.locator('#watch-requests li[data-city="360200"] a.request-access')
    assert ask_yunzhou.count() == 1
    ask_link = ask_yunzhou.get_attribute("href")
    shot(me, "09-watch-needs-grant")
    me.uncheck("#scope-360200")
    me.click("#watch-add")
    me.wait_for_selector("#flash", timeout=WAIT_MS)
    entry = me.locator('#entry-list tr[data-status="active"]').first
    assert PLATE in entry.inner_text() and "滨江" in entry.locator(".scope-cities").inner_text()
    me.wait_for_selector('#live-state[data-state="live"]', timeout=WAIT_MS)
    assert me.locator("#hits li.hit").count() == 0
    shot(me, "10-watching")

    # 8. a new sighting at the 滨江 border checkpoint is ingested; the hit arrives without a reload
    url_before = me.url
    ingest_new_sighting(province_server.platform, tmp_path)
    hit = me.wait_for_selector('#hits li.hit[data-access="allow"]', timeout=WAIT_MS)
    assert hit is not None
    assert me.url == url_before
    text = hit.inner_text()
    assert PLATE in text and BORDER_CHECKPOINT in text and "滨江" in text
    assert hit.get_attribute("data-city") == "360100" and hit.get_attribute("data-seen") == "false"
    shot(me, "11-live-hit")

    # 9. marked seen (a POST with the CSRF header); the list's counts follow on the next visit
    me.locator("#hits li.hit .mark-seen").first.click()
    me.wait_for_selector('#hits li.hit[data-seen="true"]', timeout=WAIT_MS)
    me.reload()
    me.wait_for_selector('#hits li.hit[data-seen="true"]', timeout=WAIT_MS)
    assert me.locator("#entry-list .hit-count").first.get_attribute("data-hits") == "1"
    assert me.locator("#entry-list .hit-count").first.get_attribute("data-unseen") == "0"
    shot(me, "12-hit-seen")

    # 10. to watch 云州 too, the investigator follows the page's "request access" for 云州 (prefilled:
    #     scope vehicle, the plate as key, the watch's purpose and case); the approver grants it
    me.goto(ask_link)
    me.wait_for_selector("#request-form", timeout=WAIT_MS)
    assert me.locator("input[name=owner_city]").input_value() == "360200"
    assert me.locator("select[name=scope]").input_value() == "vehicle"
    assert me.locator("textarea[name=keys]").input_value() == PLATE
    assert me.locator("input[name=case_no]").input_value() == CASE
    me.fill("textarea[name=purpose_text]", "嫌疑车辆多次进入云州，需在云州布控")
    me.click("#submit-request")
    me.wait_for_selector("#flash", timeout=WAIT_MS)
    boss.goto("/approvals")
    request = boss.locator("#queue article.request", has_text="嫌疑车辆多次进入云州").first
    request.locator("form.approve input[name=reason]").fill("同意在云州布控")
    request.locator("form.approve input[name=hours]").fill("24")
    request.locator("form.approve button").click()
    boss.wait_for_selector("#flash", timeout=WAIT_MS)
    shot(boss, "13-approved-vehicle-grant")

    # 11. with the vehicle grant, the plate is watched in 云州 as well
    me.goto(f"/watch?plate={PLATE}&case_no={CASE}")
    me.fill("#watch-reason", "嫌疑车辆，云州范围布控")
    me.check("#scope-360200")
    me.click("#watch-add")
    me.wait_for_selector("#flash", timeout=WAIT_MS)
    assert me.locator('#entry-list tr[data-status="active"]').count() == 2
    assert "云州" in me.locator("#entry-list .scope-cities").first.inner_text()
    me.wait_for_selector('#live-state[data-state="live"]', timeout=WAIT_MS)
    shot(me, "14-watching-yunzhou")

    # 12. 云州's checkpoint system pushes a pass over GA/T 1400 with its own viid:push token; the hit
    #     arrives live, readable under the grant
    checkpoint = push_yunzhou_pass(province_server, tiny_demo)
    hit = me.wait_for_selector('#hits li.hit[data-city="360200"]', timeout=WAIT_MS)
    assert hit is not None and hit.get_attribute("data-access") == "allow"
    assert PLATE in hit.inner_text() and checkpoint in hit.inner_text() and "云州" in hit.inner_text()
    assert me.locator("#hits li.hit").first.get_attribute("data-city") == "360200"  # newest first
    shot(me, "15-live-hit-yunzhou")
