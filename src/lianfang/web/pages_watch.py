"""布控 watch lists: my entries, adding one (plate or person), removing one, and the live hits panel.

Every change goes through :class:`~lianfang.watch.entries.WatchEntries` (``platform.watch.entries``),
as in the API, so the approval rule, the checks and the audit events are the same. A citizen ID
is typed into the form and POSTed — never put in a URL; a plate (not personal data) may prefill
the form from the query string (``/watch?plate=赣A7Q777&case_no=…``), which is how the vehicle
and trajectory pages link here.

When the add is refused because a city in the scope needs a grant, the page says so and offers
"request access" per city, prefilled with what the service says the grant must cover. The hits
panel is drawn by ``static/watch.js``: the backlog from ``GET /api/v1/watch/hits``, then the live
stream ``GET /api/v1/watch/stream`` (server-sent events, the session cookie, no CSRF for a GET).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from lianfang.api.deps import IdPath
from lianfang.api.security import now_ms
from lianfang.audit import AuditUnavailable
from lianfang.policy.decision import Purpose
from lianfang.watch import WatchError
from lianfang.watch.model import DAY_MS, entry_of
from lianfang.web.i18n import add_texts
from lianfang.web.page import Posting, Viewer, Viewing, city_label, forbid, reads_data
from lianfang.web.pages_access import request_link

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 30
_STATUS = {"invalid": 422, "forbidden": 403, "needs_grant": 403, "not_found": 404}

add_texts({
    "watch_title": {"zh": "布控", "en": "Watch lists"},
    "watch_help": {
        "zh": "对号牌或人员布控：此后入库的过车记录一经匹配即实时推送到本页。布控须填写理由、用途和案件编号；"
              "布控其他城市须先获得该市的授权。",
        "en": "Watch a plate or a person: every sighting stored from now on that matches is pushed to this page "
              "as it arrives. A watch needs a reason, a purpose and a case number; watching another city needs "
              "that city's grant first.",
    },
    "watch_mine": {"zh": "我的布控", "en": "My watch-list entries"},
    "watch_status_filter": {"zh": "状态", "en": "Status"},
    "watch_status_all": {"zh": "全部", "en": "All"},
    "watch_subject": {"zh": "布控对象", "en": "Subject"},
    "watch_kind": {"zh": "类型", "en": "Kind"},
    "watch_kind_plate": {"zh": "号牌", "en": "Plate"},
    "watch_kind_person": {"zh": "人员（身份证号）", "en": "Person (citizen ID)"},
    "watch_scope": {"zh": "布控范围", "en": "Scope"},
    "watch_scope_help": {"zh": "勾选要匹配其过车记录的城市；本市以外的城市须先获授权。",
                         "en": "Tick the cities whose sightings are matched; cities other than your own need a grant."},
    "watch_expires": {"zh": "到期时间", "en": "Expires"},
    "watch_days": {"zh": "布控天数", "en": "Days"},
    "watch_reason": {"zh": "布控理由", "en": "Reason"},
    "watch_hits": {"zh": "命中", "en": "Hits"},
    "watch_unseen": {"zh": "未读 {n}", "en": "{n} unseen"},
    "watch_add": {"zh": "新增布控", "en": "Add an entry"},
    "watch_add_go": {"zh": "提交布控", "en": "Start watching"},
    "watch_remove": {"zh": "撤销", "en": "Remove"},
    "watch_remove_confirm": {"zh": "确定撤销该布控？", "en": "Remove this watch-list entry?"},
    "watch_empty": {"zh": "没有布控。", "en": "No watch-list entries."},
    "watch_status_active": {"zh": "布控中", "en": "active"},
    "watch_status_removed": {"zh": "已撤销", "en": "removed"},
    "watch_status_expired": {"zh": "已到期", "en": "expired"},
    "watch_needs_grant": {"zh": "以下城市须先获授权才能布控：",
                          "en": "These cities need a grant before you can watch them:"},
    "watch_request_city": {"zh": "申请{city}授权", "en": "Request access to {city}"},
    "watch_refused": {"zh": "未能布控", "en": "Not added"},
    "watch_live": {"zh": "实时命中", "en": "Live hits"},
    "watch_live_help": {"zh": "新的命中会自动出现在最上方，无需刷新页面。",
                        "en": "New hits appear at the top as they arrive; no need to reload."},
    "watch_live_connecting": {"zh": "正在连接…", "en": "Connecting…"},
    "watch_live_on": {"zh": "实时接收中", "en": "Live"},
    "watch_live_off": {"zh": "连接已断开，正在重连…", "en": "Disconnected; reconnecting…"},
    "watch_live_ended": {"zh": "会话已结束，请重新登录。", "en": "Your session has ended; sign in again."},
    "watch_no_hits": {"zh": "暂无命中。", "en": "No hits yet."},
    "watch_hit_masked": {"zh": "已脱敏：{city}的过车记录，需授权查看",
                         "en": "masked: a sighting in {city}; access needs a grant"},
    "watch_mark_seen": {"zh": "标为已读", "en": "Mark seen"},
    "watch_seen": {"zh": "已读", "en": "seen"},
    "watch_new": {"zh": "新", "en": "new"},
    "watch_device": {"zh": "设备", "en": "Device"},
    "watch_hidden": {"zh": "另有 {n} 条命中无权查看。", "en": "{n} more hits you may not see."},
    "watch_load_failed": {"zh": "命中记录加载失败。", "en": "Could not load the hits."},
    "watch_days_invalid": {"zh": "布控天数须为 1 至 {max} 天。", "en": "A watch runs for 1 to {max} days."},
    "watch_province": {"zh": "省直", "en": "Province"},
    "watch_button": {"zh": "布控", "en": "Watch"},
    "done_watch_added": {"zh": "已布控，新的过车记录将实时推送。",
                         "en": "Watching: new sightings will be pushed here."},
    "done_watch_removed": {"zh": "已撤销布控。", "en": "The entry was removed."},
})  # fmt: skip


def _readers_only(v: Viewer) -> None:
    if not reads_data(v):  # administrators and auditors read no records, so they watch nothing either
        raise forbid(v, [])


def own_city(v: Viewer) -> str:
    return v.user.unit_code[:4] + "00"


def _entries(v: Viewer, status: str) -> list[dict[str, Any]]:
    counts = v.plat.watch.hits.counts(v.user)
    out = []
    for row in v.plat.watch.entries.rows(v.user, status=None if status == "all" else status):
        e = entry_of(row)
        hits, unseen = counts.get(e.id, (0, 0))
        out.append({
            "id": e.id, "kind": e.kind, "subject": v.plat.watch.entries.subject_shown(row),
            "reason": v.plat.watch.entries.reason_text(row), "purpose": e.purpose, "case_no": e.case_no,
            "cities": [_scope_name(v, c) for c in e.scope], "status": e.status, "live": e.live(now_ms()),
            "created_at": e.created_at, "expires_at": e.expires_at, "hits": hits, "unseen": unseen,
        })  # fmt: skip
    return out


def _scope_name(v: Viewer, code: str) -> str:
    """A city's name; the province's own code (data the provincial systems own) named as such."""
    return v.t["watch_province"] if code.endswith("0000") else city_label(v.plat, code)


def _page(v: Viewer, form: dict[str, Any], *, status: int = 200, status_filter: str = "active",
          **context: Any) -> Response:
    cities = [{"code": c, "name": _scope_name(v, c)} for c in v.plat.city_codes()]
    return v.render("watch.html", status=status, f=form, entries=_entries(v, status_filter),
                    status_filter=status_filter, cities=cities, purposes=list(v.plat.policy.purposes),
                    max_days=v.plat.settings.watch_max_days,
                    watch_data={"cities": {c["code"]: c["name"] for c in cities}}, **context)


def _form(v: Viewer, **given: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"kind": "plate", "plate": "", "reason": "", "purpose": "case_investigation",
                              "case_no": "", "scope": [own_city(v)], "days": str(DEFAULT_DAYS)}
    values.update({k: val for k, val in given.items() if val})
    return values


@router.get("/watch")
def watch_page(v: Viewing, plate: str = "", purpose: str = "", case_no: str = "", status: str = "active") -> Response:
    _readers_only(v)
    v.plat.watch.entries.expire(now_ms())
    if status not in ("active", "removed", "expired", "all"):
        status = "active"
    return _page(v, _form(v, plate=plate.strip()[:20], purpose=purpose[:48], case_no=case_no.strip()[:64]),
                 status_filter=status)


@router.post("/watch")
def add_entry(
    v: Posting,
    kind: str = Form("plate", max_length=8),
    plate: str = Form("", max_length=40),
    citizen_id: str = Form("", max_length=40),
    reason: str = Form("", max_length=500),
    purpose: str = Form("", max_length=48),
    case_no: str = Form("", max_length=64),
    scope: list[str] = Form([]),
    days: str = Form(str(DEFAULT_DAYS), max_length=4),
) -> Response:
    _readers_only(v)
    scope = [c.strip()[:6] for c in scope[:64]]
    # the citizen ID is never echoed back into the form: it is typed again after a refusal
    form = _form(v, kind=kind, plate=plate.strip() if kind == "plate" else "", reason=reason, purpose=purpose,
                 case_no=case_no.strip(), days=days)
    form["scope"] = scope
    now = now_ms()
    v.plat.watch.entries.expire(now)
    try:
        n_days = int(days)
    except ValueError:
        n_days = 0
    if not 1 <= n_days <= v.plat.settings.watch_max_days:
        return _page(v, form, status=422, error=v.t["watch_days_invalid"].format(max=v.plat.settings.watch_max_days),
                     error_reason="watch.expiry")
    try:
        entry = v.plat.watch.entries.add(
            v.user, kind=kind, subject=plate if kind == "plate" else citizen_id, reason=reason,
            purpose=Purpose(purpose, "", case_no.strip() or None), scope=scope,
            expires_at=now + n_days * DAY_MS, now_ms=now, client=v.client,
        )  # fmt: skip
    except WatchError as err:
        return _refused(v, form, err)
    except AuditUnavailable:
        return _page(v, form, status=503, error=v.t["err_audit"])
    return v.back(f"/watch#entry-{entry.id}", done="watch_added")


def _refused(v: Viewer, form: dict[str, Any], err: WatchError) -> Response:
    requests = []
    for ask in err.extra.get("request_access", []) if err.kind == "needs_grant" else []:
        city = city_label(v.plat, ask["owner_city"])
        requests.append({
            "city_code": ask["owner_city"], "label": v.t["watch_request_city"].format(city=city),
            "href": request_link(owner_city=ask["owner_city"], level=ask["level"], scope=ask["scope"],
                                 keys=",".join(ask["keys"]), purpose=ask["purpose"], case_no=ask["case_no"]),
        })  # fmt: skip
    return _page(v, form, status=_STATUS.get(err.kind, 422), error=err.message, error_reason=err.reason,
                 requests=requests)


@router.post("/watch/{entry_id}/remove")
def remove_entry(entry_id: IdPath, v: Posting) -> Response:
    _readers_only(v)
    try:
        v.plat.watch.entries.remove(v.user, entry_id, now_ms=now_ms(), client=v.client)
    except WatchError as err:
        if err.kind == "not_found":
            raise v.refuse(404, "not_found_title") from None
        return _page(v, _form(v), status=_STATUS.get(err.kind, 422), error=err.message, error_reason=err.reason)
    except AuditUnavailable:
        raise v.refuse(503, "error_title", v.t["err_audit"]) from None
    return v.back("/watch", done="watch_removed")


__all__ = ["router"]
