"""通知: the requester and approvers are told, the badge counts unread, marking read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lianfang.platform import Platform

BINJIANG, YUNZHOU = "360100", "360200"
FORM = {"owner_city": YUNZHOU, "level": "sensitive", "scope": "records", "keys": "person:7",
        "purpose": "case_investigation", "case_no": "A3601002026110001", "hours": "24"}


def _badge(html: str) -> int:
    found = re.search(r'id="unread-badge">(\d+)<', html)
    assert found is not None
    return int(found.group(1))


def test_notifications_flow_and_mark_read(web_user: Callable[..., Any], platform: Platform) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    inv.post("/access/new", FORM)
    rid = platform.approvals.mine(platform.directory.get("bj_inv"))[0].id  # type: ignore[arg-type]
    page = appr.get("/notifications")
    assert _badge(page.text) == 1 and "有新的授权申请待你审批" in page.text
    assert f'href="/approvals#request-{rid}"' in page.text
    appr.post(f"/approvals/{rid}/approve", {"reason": "同意"})
    mine = inv.get("/notifications")
    assert _badge(mine.text) == 1 and "你的授权申请已批准" in mine.text and f'href="/access#request-{rid}"' in mine.text
    [note] = platform.approvals.notifications(platform.directory.get("bj_inv"))  # type: ignore[arg-type]
    assert appr.post(f"/notifications/{note['id']}/read").status_code == 303  # not the approver's note
    assert _badge(inv.get("/").text) == 1
    res = inv.post(f"/notifications/{note['id']}/read")
    assert res.status_code == 303 and res.headers["location"] == "/notifications?done=read"
    after = inv.get("/notifications")
    assert _badge(after.text) == 0 and 'class="note unread"' not in after.text and "已读" in after.text
    assert appr.post("/notifications/read-all", csrf="forged").status_code == 403
    assert _badge(appr.get("/").text) == 1
    appr.post("/notifications/read-all")
    assert _badge(appr.get("/").text) == 0
