"""审批 pages: approvers only (others get 403, audited); the queue; approve / reject with a reason; revoke."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform

BINJIANG, YUNZHOU = "360100", "360200"
CASE = "A3601002026110001"
FORM = {"owner_city": YUNZHOU, "level": "sensitive", "scope": "vehicle", "keys": "赣A7Q777",
        "purpose": "case_investigation", "purpose_text": "跨市盗窃案车辆轨迹核查", "case_no": CASE, "hours": "24"}


def _with_city_names(platform: Platform, folder: Path) -> None:
    """The province's reference data names 云州 (ingested as the demo's provincial system exports it)."""
    ref = folder / "ref" / "reference"
    ref.mkdir(parents=True)
    (ref / "jurisdiction.csv").write_text(
        "code,name,level,parent_code,city_code\n360200,云州市,city,360000,360200\n",
        encoding="utf-8")
    result = Ingestor(engine=platform.engine, standard=platform.standard, keyring=platform.keyring,
                      settings=platform.settings, mappings=platform.mappings).ingest([folder / "ref"])
    assert result.total("accepted") == 1, result


def _requested(inv: Any, platform: Platform) -> int:
    assert inv.post("/access/new", FORM).status_code == 303
    return platform.approvals.mine(platform.directory.get(inv.username))[0].id


def test_only_approvers_see_the_queue(web_user: Callable[..., Any], audit_actions: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    page = inv.get("/approvals")
    assert page.status_code == 403 and 'id="refusal"' in page.text and "无权访问" in page.text
    assert ("authz.denied", "denied") in audit_actions(inv.user_id)  # the refusal is in the trail
    assert inv.post("/approvals/1/approve", {"reason": "x"}).status_code == 403
    assert 'id="nav-approvals"' not in inv.get("/").text
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    assert appr.get("/approvals").status_code == 200 and 'id="nav-approvals"' in appr.get("/").text


def test_approver_sees_the_request_and_approves(web_user: Callable[..., Any], platform: Platform,
                                                audit_actions: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG, display_name="李侦查", unit_name="滨江市公安局刑侦支队")
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    rid = _requested(inv, platform)
    queue = appr.get("/approvals")
    assert f'id="request-{rid}"' in queue.text and "李侦查 · 滨江市公安局刑侦支队" in queue.text
    assert "跨市盗窃案车辆轨迹核查" in queue.text and "赣A7Q777" in queue.text and CASE in queue.text
    assert appr.post(f"/approvals/{rid}/approve", {"reason": " "}).status_code == 422  # a reason is required
    assert appr.post(f"/approvals/{rid}/approve", {"reason": "案情需要", "hours": "²"}).status_code == 422  # was a 500
    res = appr.post(f"/approvals/{rid}/approve", {"reason": "案情需要", "hours": "12"})
    assert res.status_code == 303 and res.headers["location"] == "/approvals?done=approved"
    done = appr.get(res.headers["location"])
    assert "已批准，授权即时生效。" in done.text and 'id="queue-empty"' in done.text
    [grant] = platform.approvals.grants_for(inv.user_id, 0)
    assert grant.expires_ms - grant.starts_ms == 12 * 3_600_000 and grant.keys == {"赣A7Q777"}
    assert f'id="grant-{grant.id}" data-status="active"' in done.text  # under "grants I approved"
    assert ("access.approve", "ok") in audit_actions(appr.user_id)
    mine = inv.get("/access")
    assert f'id="grant-{grant.id}" data-status="active"' in mine.text and 'data-status="approved"' in mine.text


def test_reject_and_revoke(web_user: Callable[..., Any], platform: Platform,
                           audit_actions: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    first, second = _requested(inv, platform), _requested(inv, platform)
    assert appr.post(f"/approvals/{first}/reject", {"reason": ""}).status_code == 422
    res = appr.post(f"/approvals/{first}/reject", {"reason": "案件编号与案情不符"})
    assert res.status_code == 303 and platform.approvals.get(first).status == "rejected"
    appr.post(f"/approvals/{second}/approve", {"reason": "同意"})
    [grant] = platform.approvals.grants_for(inv.user_id, 0)
    res = appr.post(f"/access/grants/{grant.id}/revoke", {"reason": "案件已结", "back": "/approvals"})
    assert res.status_code == 303 and res.headers["location"] == "/approvals?done=revoked"
    assert platform.approvals.grant(grant.id).revoked_ms is not None
    assert f'id="grant-{grant.id}" data-status="revoked"' in appr.get("/approvals").text
    actions = audit_actions(appr.user_id)
    assert ("access.reject", "ok") in actions and ("grant.revoke", "ok") in actions
    again = appr.post(f"/approvals/{first}/approve", {"reason": "改主意了"})
    assert again.status_code == 409 and "状态已变化" in again.text  # decided already
    assert f"申请 {first} 已处理（已驳回），不能再审批" in again.text  # why, in the reader's language
    gone = appr.post(f"/access/grants/{grant.id}/revoke", {"reason": "再次撤销"})
    assert gone.status_code == 409 and f"授权 {grant.id} 已被撤销" in gone.text


def test_approvers_of_another_city_and_self_approval_are_refused(web_user: Callable[..., Any],
                                                                 platform: Platform, tmp_path: Path) -> None:
    _with_city_names(platform, tmp_path)
    inv = web_user("bj_inv", ["investigator", "city_approver"], BINJIANG)
    other_city = web_user("yz_appr", ["city_approver"], YUNZHOU)
    rid = _requested(inv, platform)
    assert f'id="request-{rid}"' not in other_city.get("/approvals").text  # routed to 滨江's approvers only
    assert other_city.post(f"/approvals/{rid}/approve", {"reason": "x"}).status_code == 403
    assert f'id="request-{rid}"' not in inv.get("/approvals").text
    own = inv.post(f"/approvals/{rid}/approve", {"reason": "x"})
    assert own.status_code == 403 and "不能审批本人提出的授权申请" in own.text
    foreign = other_city.post(f"/approvals/{rid}/approve", {"reason": "x"})
    assert "您无权审批此申请人对云州市敏感数据的授权" in foreign.text  # the city by its name
    other_city.get("/", params={"lang": "en"})  # the reader switches to English
    foreign = other_city.post(f"/approvals/{rid}/approve", {"reason": "x"})
    assert "You may not decide access to 云州市&#39;s Sensitive data for this requester" in foreign.text
    assert platform.approvals.get(rid).status == "pending"


def test_decisions_need_the_csrf_token(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    rid = _requested(inv, platform)
    assert appr.post(f"/approvals/{rid}/approve", {"reason": "同意"}, csrf=inv.csrf).status_code == 403
    assert platform.approvals.get(rid).status == "pending"
