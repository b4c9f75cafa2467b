"""In chromium, three people at work: a 滨江 investigator asks for access to 云州 data from a prefilled link,
the 滨江 city approver approves it in another browser, the investigator sees the grant and the
notification; an auditor reads the trail, checks its integrity and disposes of an alarm."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASE = "A3601002026110001"
PLATE = "赣A7Q777"


def _reload_until(page: Any, selector: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while page.locator(selector).count() == 0:
        assert time.monotonic() < deadline, f"{selector} did not appear"
        time.sleep(0.3)
        page.reload()


def test_request_approve_and_audit(live_server: Any, new_page: Callable[[], Any], sign_in: Callable[..., None],
                                   shot: Callable[[Any, str], Any]) -> None:
    inv = live_server.add_user("bj_inv_story", ["investigator"], "360100", display_name="李侦查",
                               unit_name="滨江市公安局刑侦支队")
    appr = live_server.add_user("bj_appr_story", ["city_approver"], "360100", display_name="王审批",
                                unit_name="滨江市公安局")
    auditor = live_server.add_user("prov_aud_story", ["auditor"], "360000", display_name="赵审计",
                                   unit_name="江右省公安厅审计处")

    # 1. the investigator follows "request access" (as the search page links it), prefilled
    me = new_page()
    sign_in(me, inv)
    me.goto(f"/access/new?owner_city=360200&level=sensitive&scope=vehicle&keys={PLATE}&case_no={CASE}")
    assert me.locator("input[name=owner_city]").input_value() == "360200"
    assert me.locator("textarea[name=keys]").input_value() == PLATE
    assert me.locator("select[name=level]").input_value() == "sensitive"
    me.fill("textarea[name=purpose_text]", "滨江连环盗窃案嫌疑车辆进入云州，需核查其轨迹与车主档案")
    me.fill("input[name=hours]", "48")
    shot(me, "01-request-form")
    me.click("#submit-request")
    me.wait_for_selector("#flash")
    assert me.locator("#flash").inner_text() == "申请已提交，等待审批。"
    row = me.locator("#requests tbody tr").first
    assert row.get_attribute("data-status") == "pending" and PLATE in row.inner_text()
    shot(me, "02-request-pending")

    # 2. the city approver, in another browser, decides
    boss = new_page()
    sign_in(boss, appr)
    assert boss.locator("#unread-badge").inner_text() == "1"
    boss.click("#nav-approvals")
    request = boss.locator("#queue article.request").first
    assert "李侦查 · 滨江市公安局刑侦支队" in request.inner_text()
    assert "滨江连环盗窃案嫌疑车辆进入云州" in request.inner_text() and CASE in request.inner_text()
    request.locator("form.approve input[name=reason]").fill("案情属实，同意在案件期限内查询")
    request.locator("form.approve input[name=hours]").fill("24")
    shot(boss, "03-approver-queue")
    request.locator("form.approve button").click()
    boss.wait_for_selector("#flash")
    assert boss.locator("#flash").inner_text() == "已批准，授权即时生效。"
    assert boss.locator("#queue-empty").is_visible()
    assert boss.locator("#granted tbody tr").first.get_attribute("data-status") == "active"
    shot(boss, "04-approved")

    # 3. the investigator is told, and holds the grant
    me.goto("/")
    assert me.locator("#unread-badge").inner_text() == "1" and me.locator("#grants").inner_text() == "1"
    me.click("#nav-notifications")
    note = me.locator("#notes li.unread").first
    assert "你的授权申请已批准" in note.inner_text()
    shot(me, "05-notification")
    note.locator("button").click()
    me.wait_for_selector("#flash")
    assert me.locator("#unread-badge").inner_text() == "0"
    me.click("#nav-access")
    grant = me.locator("#grants tbody tr").first
    assert grant.get_attribute("data-status") == "active" and "有效" in grant.inner_text()
    assert me.locator("#requests tbody tr").first.get_attribute("data-status") == "approved"
    shot(me, "06-grant-active")

    # 4. curious about the audit pages, the investigator is refused five times (each refusal audited)
    for _ in range(5):
        me.goto("/audit")
        assert me.locator("#refusal h1").inner_text() == "无权访问"
    shot(me, "07-refused")

    # 5. the auditor reads the trail, verifies it, and disposes of the alarm the refusals raised
    aud = new_page()
    sign_in(aud, auditor)
    aud.click("#nav-audit")
    actions = aud.locator("#events tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert {"access.request", "access.approve", "authz.denied", "auth.sign_in"} <= set(actions)
    aud.fill("input[name=user]", inv.username)
    aud.select_option("select[name=outcome]", "denied")
    aud.click("#apply-filter")
    aud.wait_for_url("**/audit?*outcome=denied*")
    assert aud.locator("#events tbody tr").count() == 5
    aud.click("#verify")
    aud.wait_for_selector("#verify-report")
    assert aud.locator("#verify-report strong").inner_text() == "完整：审计日志未被篡改。"
    assert "/audit/verify" not in aud.url  # htmx swapped the result in, sending the CSRF header
    shot(aud, "08-audit-trail-verified")
    aud.click("#tab-alarms")
    _reload_until(aud, "article.alarm[data-rule=repeated_denials]")
    alarm = aud.locator("article.alarm[data-rule=repeated_denials]").first
    assert "多次被拒绝" in alarm.inner_text() and "李侦查 · 滨江市公安局刑侦支队" in alarm.inner_text()
    assert alarm.locator("[data-key=denials]").inner_text() == "被拒次数: 5"
    alarm.locator("input[value=false_positive]").check()
    alarm.locator("input[name=note]").fill("民警初次使用系统误点审计菜单，已当面提醒")
    shot(aud, "09-alarm")
    alarm.locator("button[type=submit]").click()
    aud.wait_for_selector("#flash")
    assert aud.locator("#flash").inner_text() == "告警已处置。"
    aud.goto("/audit?action=audit.alarm_dispose")
    assert aud.locator("#events tbody tr").first.get_attribute("data-action") == "audit.alarm_dispose"
    shot(aud, "10-disposed")

    # 6. the approver revokes; the investigator's grant ends at once
    boss.goto("/approvals")
    boss.locator("#granted input[name=reason]").first.fill("案件已移送，不再需要")
    boss.locator("#granted button.danger").first.click()
    boss.wait_for_selector("#flash")
    me.goto("/access")
    assert me.locator("#grants tbody tr").first.get_attribute("data-status") == "revoked"
    assert me.locator("#unread-badge").inner_text() == "1"
    shot(me, "11-grant-revoked")
