"""布控 the watch-list page: my entries, adding (the approval rule, with "request access" per city),
removing, the CSRF check, and who may use it. The page calls the same service as the API."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import text

from lianfang.platform import Platform
from lianfang.policy.decision import Purpose, ScopeKind
from lianfang.standard.levels import Level

BINJIANG, YUNZHOU = "360100", "360200"
PLATE = "赣A7Q777"
CASE = "A3601002026110001"
PERSON_ID = "360202199001010013"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")


def add_form(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "plate", "plate": "赣a·7q777", "reason": "盗窃案嫌疑车辆",
                            "purpose": "case_investigation", "case_no": CASE, "scope": [BINJIANG], "days": "30"}
    body.update(over)
    return body


def entry_rows(html: str) -> list[tuple[str, str]]:
    """(entry id, status) of the rows of my list."""
    return re.findall(r'<tr id="entry-(\d+)" data-status="(\w+)"', html)


def stored(platform: Platform) -> list[Any]:
    with platform.engine.connect() as conn:
        return list(conn.execute(text("SELECT id, owner_id, kind, subject_key, status, scope FROM watch_entry")))


def test_the_page_lists_my_entries_with_scope_expiry_and_counts(web_user: Callable[..., Any],
                                                               platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    other = web_user("bj_inv2", ["investigator"], "360102")
    res = inv.get("/watch")
    assert res.status_code == 200
    assert 'id="nav-watch"' in res.text and 'class="active"' in res.text
    assert re.search(r'name="scope" value="360100" id="scope-360100" checked', res.text)  # own city by default
    assert re.search(r'name="scope" value="360200" id="scope-360200">', res.text)  # others offered, unticked
    assert entry_rows(res.text) == []
    assert not _INLINE_SCRIPT.search(res.text) and ' style="' not in res.text
    assert '<script src="/static/watch.js"></script>' in res.text

    user = platform.directory.get("bj_inv")
    assert user is not None
    now = int(time.time() * 1000)
    entry = platform.watch.entries.add(user, kind="plate", subject=PLATE, reason="嫌疑车辆",
                                       purpose=Purpose("case_investigation", "", CASE), scope=[BINJIANG],
                                       expires_at=now + 86_400_000, now_ms=now)
    page = inv.get("/watch").text
    assert entry_rows(page) == [(str(entry.id), "active")]
    row = re.search(rf'<tr id="entry-{entry.id}".*?</tr>', page, re.S)
    assert row is not None
    assert PLATE in row.group(0) and "嫌疑车辆" in row.group(0) and CASE in row.group(0)
    assert 'data-hits="0" data-unseen="0"' in row.group(0)
    assert entry_rows(other.get("/watch").text) == []  # each user sees only their own


def test_a_plate_from_the_query_string_prefills_the_form(web_user: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    page = inv.get("/watch", params={"plate": PLATE, "case_no": CASE}).text
    assert f'id="watch-plate" value="{PLATE}"' in page and f'id="watch-case-no" value="{CASE}"' in page


def test_adding_for_my_own_city_is_accepted(web_user: Callable[..., Any], platform: Platform,
                                            audit_actions: Callable[..., list[tuple[str, str]]]) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    res = inv.post("/watch", add_form())
    assert res.status_code == 303, res.text
    (row,) = stored(platform)
    assert res.headers["location"] == f"/watch?done=watch_added#entry-{row.id}"
    assert (row.kind, row.subject_key, row.status, row.owner_id) == ("plate", PLATE, "active", inv.user_id)
    page = inv.get(res.headers["location"]).text
    assert 'id="flash"' in page and "已布控" in page
    assert entry_rows(page) == [(str(row.id), "active")]
    assert ("watch.add", "ok") in audit_actions(inv.user_id)


def test_another_city_without_a_grant_is_refused_with_a_request_link_per_city(
        web_user: Callable[..., Any], platform: Platform,
        audit_actions: Callable[..., list[tuple[str, str]]]) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    res = inv.post("/watch", add_form(scope=[BINJIANG, YUNZHOU, "360300"]))
    assert res.status_code == 403
    assert stored(platform) == []
    assert 'data-reason="watch.needs_grant"' in res.text
    links = re.findall(r'<li data-city="(\d+)"><a class="request-access button" href="([^"]+)"', res.text)
    assert [c for c, _ in links] == [YUNZHOU, "360300"]
    query = parse_qs(urlsplit(unquote(links[0][1].replace("&amp;", "&"))).query)
    assert urlsplit(links[0][1]).path == "/access/new"
    assert {k: v[0] for k, v in query.items()} == {"owner_city": YUNZHOU, "level": "sensitive", "scope": "vehicle",
                                                   "keys": PLATE, "purpose": "case_investigation", "case_no": CASE}
    # what was typed stays in the form, so the user can untick the city and send it again
    assert 'id="watch-plate" value="赣a·7q777"' in res.text and 'id="scope-360200" checked' in res.text
    assert ("watch.add", "denied") in audit_actions(inv.user_id)
    # and the prefilled form is the access-request form, ready to send
    form = inv.get(unquote(links[0][1].replace("&amp;", "&")))
    assert form.status_code == 200 and 'name="owner_city" value="360200"' in form.text


def test_another_city_with_a_vehicle_grant_is_accepted(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    web_user("bj_appr", ["city_approver"], BINJIANG)
    holder, approver = platform.directory.get("bj_inv"), platform.directory.get("bj_appr")
    assert holder is not None and approver is not None
    now = int(time.time() * 1000)
    req = platform.approvals.request(holder, owner_city=YUNZHOU, level=Level.SENSITIVE, scope=ScopeKind.VEHICLE,
                                     keys=[PLATE], purpose=Purpose("case_investigation", "", CASE), hours=24,
                                     now_ms=now)
    platform.approvals.approve(approver, req.id, reason="同意", now_ms=now)
    res = inv.post("/watch", add_form(scope=[BINJIANG, YUNZHOU]))
    assert res.status_code == 303, res.text
    (row,) = stored(platform)
    assert sorted(json.loads(row.scope)) == [BINJIANG, YUNZHOU]


def test_a_person_is_posted_and_shown_masked_never_in_a_url(web_user: Callable[..., Any],
                                                            platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    res = inv.post("/watch", add_form(kind="person", plate="", citizen_id=PERSON_ID))
    assert res.status_code == 303, res.text
    assert PERSON_ID not in res.headers["location"]
    page = inv.get(res.headers["location"]).text
    assert PERSON_ID not in page
    assert "360202********0013" in page and 'data-kind="person"' in page
    (row,) = stored(platform)
    assert row.kind == "person" and PERSON_ID not in row.subject_key
    # a refused person entry does not echo the ID back into the form either
    bad = inv.post("/watch", add_form(kind="person", plate="", citizen_id=PERSON_ID, reason=""))
    assert bad.status_code == 422 and PERSON_ID not in bad.text and 'data-reason="watch.reason_missing"' in bad.text


def test_invalid_forms_are_refused_with_the_reason(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    assert 'data-reason="watch.case_number_missing"' in inv.post("/watch", add_form(case_no="")).text
    assert 'data-reason="watch.scope_empty"' in inv.post("/watch", add_form(scope=[])).text
    assert 'data-reason="watch.subject"' in inv.post("/watch", add_form(plate="not a plate")).text
    assert 'data-reason="watch.expiry"' in inv.post("/watch", add_form(days="365")).text
    assert stored(platform) == []


def test_removing_ends_my_entry_and_no_one_elses(web_user: Callable[..., Any], platform: Platform,
                                                 audit_actions: Callable[..., list[tuple[str, str]]]) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    other = web_user("bj_inv2", ["investigator"], "360102")
    assert inv.post("/watch", add_form()).status_code == 303
    (row,) = stored(platform)
    assert other.post(f"/watch/{row.id}/remove").status_code == 404
    assert stored(platform)[0].status == "active"
    res = inv.post(f"/watch/{row.id}/remove")
    assert res.status_code == 303 and res.headers["location"] == "/watch?done=watch_removed"
    assert stored(platform)[0].status == "removed"
    assert entry_rows(inv.get("/watch").text) == []
    assert entry_rows(inv.get("/watch?status=removed").text) == [(str(row.id), "removed")]
    assert ("watch.remove", "ok") in audit_actions(inv.user_id)
    assert inv.post(f"/watch/{row.id}/remove").status_code == 422  # already removed


def test_posts_without_the_csrf_token_are_refused(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], "360102")
    res = inv.post("/watch", add_form(), csrf="")
    assert res.status_code == 403 and stored(platform) == []
    assert inv.post("/watch", add_form(), csrf="x" * 40).status_code == 403
    assert inv.post("/watch", add_form()).status_code == 303
    (row,) = stored(platform)
    assert inv.post(f"/watch/{row.id}/remove", csrf="").status_code == 403
    assert stored(platform)[0].status == "active"


def test_roles_that_read_no_records_are_refused(web_user: Callable[..., Any],
                                                audit_actions: Callable[..., list[tuple[str, str]]]) -> None:
    auditor = web_user("aud", ["auditor"], "360000")
    res = auditor.get("/watch")
    assert res.status_code == 403
    assert 'id="nav-watch"' not in res.text
    assert auditor.post("/watch", add_form()).status_code == 403
    assert ("authz.denied", "denied") in audit_actions(auditor.user_id)
    anonymous = auditor.client.__class__(auditor.client.app, base_url="https://testserver", follow_redirects=False)
    assert anonymous.get("/watch").headers["location"] == "/sign-in?next=%2Fwatch"
