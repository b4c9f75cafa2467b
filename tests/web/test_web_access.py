"""授权申请 pages: the request form (prefilled from a link), its effects, withdraw, give up; CSRF and roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lianfang.platform import Platform

BINJIANG, YUNZHOU = "360100", "360200"
CASE = "A3601002026110001"
FORM = {"owner_city": YUNZHOU, "level": "sensitive", "scope": "records", "keys": "person:12\nperson:13",
        "purpose": "case_investigation", "purpose_text": "盗窃案嫌疑人核查", "case_no": CASE, "hours": "48"}


def test_a_link_opens_the_form_prefilled(web_user: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    page = inv.get("/access/new", params={"owner_city": YUNZHOU, "level": "sensitive", "scope": "records",
                                          "keys": "person:12,person:13", "case_no": CASE})
    assert page.status_code == 200 and "申请数据访问授权" in page.text
    assert f'name="owner_city" value="{YUNZHOU}"' in page.text
    assert '<option value="sensitive" selected>敏感</option>' in page.text
    assert "person:12\nperson:13</textarea>" in page.text and f'value="{CASE}"' in page.text
    assert '<option value="case_investigation" selected>案件侦查</option>' in page.text  # purposes from policy.yaml


def test_submitting_files_a_request_for_the_approvers(web_user: Callable[..., Any], platform: Platform,
                                                      audit_actions: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    res = inv.post("/access/new", FORM)
    assert res.status_code == 303 and res.headers["location"].startswith("/access?done=requested#request-")
    [req] = platform.approvals.mine(platform.directory.get("bj_inv"))  # type: ignore[arg-type]
    assert (req.owner_city, req.level.value, req.keys, req.case_no, req.hours, req.status) == (
        YUNZHOU, "sensitive", ("person:12", "person:13"), CASE, 48, "pending")
    assert platform.approvals.purpose_text(req.id) == "盗窃案嫌疑人核查"
    listing = inv.get(res.headers["location"])
    assert "申请已提交，等待审批。" in listing.text and f'id="request-{req.id}" data-status="pending"' in listing.text
    assert ("access.request", "ok") in audit_actions(inv.user_id)
    assert appr.get("/").text.count('id="unread-badge">1<') == 1  # the approver was notified


def test_a_refused_request_keeps_what_was_typed(web_user: Callable[..., Any], platform: Platform,
                                                audit_actions: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    res = inv.post("/access/new", {**FORM, "case_no": "  "})
    assert res.status_code == 422 and 'id="form-error"' in res.text and "申请授权须填写案件编号" in res.text
    assert "case number" not in res.text  # the reader's language, not the service's English
    assert "person:12\nperson:13</textarea>" in res.text and "盗窃案嫌疑人核查" in res.text
    assert ("access.request", "denied") in audit_actions(inv.user_id)  # the service audited the refusal
    bad_hours = inv.post("/access/new", {**FORM, "hours": "many"})
    assert bad_hours.status_code == 422 and "填写有误" in bad_hours.text and "授权时长应为1至720小时" in bad_hours.text
    assert "many" not in bad_hours.text.replace('value="many"', "")  # not echoed in an error message
    bad_level = inv.post("/access/new", {**FORM, "level": "ultra"})
    assert bad_level.status_code == 422 and "请选择密级" in bad_level.text
    english = inv.post("/access/new?lang=en", {**FORM, "case_no": "  "})
    assert english.status_code == 422 and "An access request needs a case number" in english.text
    assert platform.approvals.mine(platform.directory.get("bj_inv")) == []  # type: ignore[arg-type]


def test_state_changes_need_the_session_csrf_token(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    for token in ("", "forged"):
        res = inv.post("/access/new", FORM, csrf=token)
        assert res.status_code == 403 and "表单已过期或来源不明" in res.text
    assert platform.approvals.mine(platform.directory.get("bj_inv")) == []  # type: ignore[arg-type]
    # htmx sends the token as a header instead of a form field
    ok = inv.client.post("/access/new", data=FORM, headers={"X-CSRF-Token": inv.csrf})
    assert ok.status_code == 303


def test_withdraw(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    other = web_user("bj_inv2", ["investigator"], BINJIANG)
    inv.post("/access/new", FORM)
    [req] = platform.approvals.mine(platform.directory.get("bj_inv"))  # type: ignore[arg-type]
    refused = other.post(f"/access/requests/{req.id}/withdraw")
    assert refused.status_code == 403 and "不允许此操作" in refused.text
    res = inv.post(f"/access/requests/{req.id}/withdraw")
    assert res.status_code == 303 and res.headers["location"] == "/access?done=withdrawn"
    assert platform.approvals.get(req.id).status == "withdrawn"
    assert "已撤回" in inv.get("/access").text


def test_holder_gives_up_a_grant(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    inv.post("/access/new", FORM)
    [req] = platform.approvals.mine(platform.directory.get("bj_inv"))  # type: ignore[arg-type]
    appr.post(f"/approvals/{req.id}/approve", {"reason": "案情需要"})
    page = inv.get("/access")
    assert 'data-status="active"' in page.text and "放弃授权" in page.text
    [grant] = platform.approvals.grants_for(inv.user_id, 0)
    res = inv.post(f"/access/grants/{grant.id}/revoke", {"back": "https://elsewhere.example/"})
    assert res.status_code == 303 and res.headers["location"] == "/access?done=revoked"  # only local pages
    assert platform.approvals.grant(grant.id).revoked_ms is not None
    assert f'id="grant-{grant.id}" data-status="revoked"' in inv.get("/access").text


def test_roles_that_read_nothing_have_nothing_to_request(web_user: Callable[..., Any],
                                                        audit_actions: Callable[..., Any]) -> None:
    auditor = web_user("aud", ["auditor"], "360000")
    assert auditor.get("/access").status_code == 403
    assert auditor.get("/access/new").status_code == 403
    assert auditor.post("/access/new", FORM).status_code == 403
    assert 'id="nav-access"' not in auditor.get("/").text
    assert audit_actions(auditor.user_id).count(("authz.denied", "denied")) == 3


def test_signed_out_visitors_come_back_to_the_prefilled_form(app: Any, platform: Platform) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    res = client.get("/access/new", params={"owner_city": YUNZHOU, "keys": "person:12"})
    assert res.status_code == 303
    assert res.headers["location"] == "/sign-in?next=%2Faccess%2Fnew%3Fowner_city%3D360200%26keys%3Dperson%253A12"
    form = client.get(res.headers["location"])
    assert 'name="next" value="/access/new?owner_city=360200&amp;keys=person%3A12"' in form.text
    assert client.post("/access/new", data=FORM).status_code == 303  # a post without a session: to sign in
    assert client.get("/sign-in", params={"next": "//evil.example/x"}).status_code == 200
