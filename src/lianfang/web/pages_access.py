"""授权申请: my access requests and grants, the request form (other pages link to it prefilled), withdraw, give up.

Every change goes through :class:`~lianfang.access.Approvals`, as in the API, so the
checks, notifications and audit events are the same. Other pages offer "request access"
as a link with the form's fields as query parameters::

    /access/new?owner_city=360200&level=sensitive&scope=records&keys=person:12&purpose=case_investigation&case_no=…
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import Response

from lianfang.access import MAX_HOURS, AccessError
from lianfang.access.approvals import MAX_KEYS
from lianfang.api.deps import IdPath
from lianfang.api.security import now_ms
from lianfang.audit import AuditUnavailable
from lianfang.policy.config import NOTHING
from lianfang.policy.decision import Grant, Purpose, ScopeKind
from lianfang.standard.levels import Level, parse_level
from lianfang.web.i18n import add_texts
from lianfang.web.page import (
    ERROR_STATUS,
    Posting,
    Viewer,
    Viewing,
    access_problem,
    forbid,
    reads_data,
    service_call,
)

#: what a refused request, decision, withdrawal or revocation says, in the reader's language
#: (AccessError.code, filled in from its params; the request form's own checks use request.*)
_PROBLEMS = {
    "request.role": ("您的角色不查阅数据，无法申请授权",
                     "Your role reads no records, so it cannot be granted access to them"),
    "request.city": ("数据所属城市应为6位行政区划代码", "The owning city is its 6-digit division code"),
    "request.purpose": ("请选择查询事由", "Choose a purpose from the list"),
    "request.case_no": ("申请授权须填写案件编号", "An access request needs a case number"),
    "request.no_approver": ("没有角色可以批准该城市此级别的数据",
                            "No role may grant this level of access to that city's data"),
    "request.keys": (f"每次申请须列出1至{MAX_KEYS}条记录、人员、车辆或案件",
                     f"A request names 1–{MAX_KEYS} records, persons, vehicles or cases"),
    "request.hours": (f"授权时长应为1至{MAX_HOURS}小时", f"Access is requested for 1–{MAX_HOURS} hours"),
    "request.level": ("请选择密级", "Choose a classification level"),
    "request.scope": ("请选择申请范围", "Choose what the request covers"),
    "request.not_found": ("没有编号为 {id} 的授权申请", "There is no access request {id}"),
    "decide.not_pending": ("申请 {id} 已处理（{status}），不能再审批", "Request {id} is no longer pending ({status})"),
    "decide.own": ("不能审批本人提出的授权申请", "Nobody decides their own access request"),
    "decide.not_yours": ("您无权审批此申请人对{city}{level}数据的授权",
                         "You may not decide access to {city}'s {level} data for this requester"),
    "decide.raced": ("申请 {id} 已由他人处理", "Request {id} was decided by someone else meanwhile"),
    "approve.hours": ("批准时长应为1至{hours}小时（不超过申请时长），而不是{granted}小时",
                      "Approve for 1–{hours} hours (at most what was asked), not {granted}"),
    "withdraw.not_requester": ("只有申请人可以撤回待审批的申请", "Only the requester withdraws a pending request"),
    "grant.not_found": ("没有编号为 {id} 的授权", "There is no grant {id}"),
    "revoke.not_allowed": ("只有授权持有人或有权批准该授权的审批人可以撤销授权",
                           "Only the holder, or an approver who could grant it, may revoke a grant"),
    "revoke.already": ("授权 {id} 已被撤销", "Grant {id} is already revoked"),
}
add_texts({f"access_problem_{code}": {"zh": zh, "en": en} for code, (zh, en) in _PROBLEMS.items()})


router = APIRouter(include_in_schema=False)

#: levels one asks for (public data needs no grant)
REQUESTABLE = (Level.INTERNAL, Level.SENSITIVE, Level.TOP_SECRET)
DEFAULT_HOURS = 72
_SPLIT = re.compile(r"[\s,，;；]+")
#: pages a revocation may return to
_BACK = ("/access", "/approvals")


def grant_status(g: Grant, now: int) -> str:
    """active | not_started | expired | revoked, as the decision would find it now."""
    if g.revoked_ms is not None and g.revoked_ms <= now:
        return "revoked"
    if now >= g.expires_ms:
        return "expired"
    if now < g.starts_ms:
        return "not_started"
    return "active"


def request_link(**fields: str | int) -> str:
    """The request form prefilled, e.g. ``request_link(owner_city="360200", level="sensitive",
    scope="records", keys="person:12")``; ``keys`` may hold several, comma-separated."""
    return "/access/new?" + urlencode({k: str(v) for k, v in fields.items() if v not in (None, "")})


def split_keys(text: str) -> list[str]:
    return [k for k in _SPLIT.split(text.strip()) if k]


def _readers_only(v: Viewer) -> None:
    if not reads_data(v):  # administrators and auditors read no records, so nothing to ask for
        raise forbid(v, [r for r, reach in v.plat.policy.roles.items() if reach != NOTHING])


@router.get("/access")
def my_access(v: Viewing) -> Response:
    _readers_only(v)
    now = now_ms()
    grants = sorted(v.plat.approvals.grants_for(v.user.id, now), key=lambda g: g.id, reverse=True)
    return v.render("access_list.html", requests=v.plat.approvals.mine(v.user),
                    grants=[(g, grant_status(g, now)) for g in grants])


def _form_values(**given: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "owner_city": "", "level": Level.SENSITIVE.value, "scope": ScopeKind.RECORDS.value, "keys": "",
        "purpose": "case_investigation", "purpose_text": "", "case_no": "", "hours": str(DEFAULT_HOURS),
    }  # fmt: skip
    values.update({k: v for k, v in given.items() if v})
    values["keys"] = "\n".join(split_keys(values["keys"]))
    return values


def _form(v: Viewer, values: dict[str, Any], *, status: int = 200, error: str | None = None,
          error_title: str | None = None) -> Response:
    return v.render("access_new.html", status=status, f=values, error=error, error_title=error_title,
                    levels=[lv.value for lv in REQUESTABLE], scopes=[s.value for s in ScopeKind],
                    purposes=list(v.plat.policy.purposes), max_hours=MAX_HOURS)


@router.get("/access/new")
def new_request_form(
    v: Viewing, owner_city: str = "", level: str = "", scope: str = "", keys: str = "", purpose: str = "",
    purpose_text: str = "", case_no: str = "", hours: str = "",
) -> Response:  # fmt: skip
    _readers_only(v)
    return _form(v, _form_values(owner_city=owner_city[:6], level=level[:16], scope=scope[:16], keys=keys[:8000],
                                 purpose=purpose[:48], purpose_text=purpose_text[:500], case_no=case_no[:64],
                                 hours=hours[:4]))


@router.post("/access/new")
def submit_request(
    v: Posting,
    owner_city: str = Form("", max_length=6),
    level: str = Form("", max_length=16),
    scope: str = Form("", max_length=16),
    keys: str = Form("", max_length=40_000),
    purpose: str = Form("", max_length=48),
    purpose_text: str = Form("", max_length=500),
    case_no: str = Form("", max_length=64),
    hours: str = Form("", max_length=6),
) -> Response:
    _readers_only(v)
    values = _form_values(owner_city=owner_city, level=level, scope=scope, keys=keys, purpose=purpose,
                          purpose_text=purpose_text, case_no=case_no, hours=hours)
    try:
        field = "level"
        parsed_level = parse_level(level)
        field = "scope"
        parsed_scope = ScopeKind(scope)
        field = "hours"
        parsed_hours = int(hours)
    except ValueError:  # Python's own message would repeat what was typed, in English
        return _form(v, values, status=422, error=v.t[f"access_problem_request.{field}"],
                     error_title=v.t["err_invalid"])
    try:
        req = v.plat.approvals.request(
            v.user, owner_city=owner_city.strip(), level=parsed_level, scope=parsed_scope, keys=split_keys(keys),
            purpose=Purpose(purpose, purpose_text, case_no), hours=parsed_hours, now_ms=now_ms(), client=v.client,
        )  # fmt: skip
    except AccessError as exc:
        return _form(v, values, status=ERROR_STATUS.get(exc.kind, 400), error=access_problem(v, exc),
                     error_title=v.t.get(f"err_{exc.kind}", v.t["error_title"]))
    except AuditUnavailable:
        return _form(v, values, status=503, error=v.t["err_audit"], error_title=v.t["error_title"])
    return v.back(f"/access#request-{req.id}", done="requested")


@router.post("/access/requests/{request_id}/withdraw")
def withdraw(request_id: IdPath, v: Posting) -> Response:
    with service_call(v):
        v.plat.approvals.withdraw(v.user, request_id, now_ms=now_ms(), client=v.client)
    return v.back("/access", done="withdrawn")


@router.post("/access/grants/{grant_id}/revoke")
def revoke(grant_id: IdPath, v: Posting, reason: str = Form("", max_length=500),
           back: str = Form("/access", max_length=2000)) -> Response:
    """The holder gives a grant up, or an approver revokes it (the service decides who may)."""
    with service_call(v):
        v.plat.approvals.revoke(v.user, grant_id, reason=reason, now_ms=now_ms(), client=v.client)
    return v.back(back if back in _BACK else "/access", done="revoked")


__all__ = ["REQUESTABLE", "grant_status", "request_link", "router", "split_keys"]
