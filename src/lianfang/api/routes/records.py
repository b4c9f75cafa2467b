"""One record, through the policy: values allowed in full, masked hits, withheld fields; always audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from lianfang.access.records import RecordHidden, RequestRefused
from lianfang.api.deps import IdPath, PlatformDep
from lianfang.api.security import Reader, audit_down, now_ms
from lianfang.audit import AuditUnavailable
from lianfang.policy.decision import Purpose

router = APIRouter(tags=["records"])

_REFUSALS = {
    "deny.purpose_missing": "每次查询须说明用途 a purpose is required (purpose=<code>)",
    "deny.purpose_unknown": "未知用途 unknown purpose code",
    "deny.case_number_required": "敏感数据须填写案件编号 sensitive data needs a case number (case_no=…)",
    "deny.no_data_access": "你的角色不能查询业务数据 your role has no access to records",
    "deny.unknown_actor": "账号未归属有效单位 your account has no valid unit",
}


def refusal(exc: RequestRefused) -> HTTPException:
    """403 with the reason code and a message saying what to add (purpose, case number)."""
    return HTTPException(403, {"reason": exc.reason, "message": _REFUSALS.get(exc.reason, exc.reason)})


@router.get("/records/{category}/{record_id}")
def view_record(
    category: str,
    record_id: IdPath,
    who: Reader,
    plat: PlatformDep,
    purpose: str = Query("", max_length=48, description="Purpose code from the policy (see /api/v1/policy)."),
    case_no: str = Query("", max_length=64, description="Case number; required for sensitive data."),
) -> dict[str, Any]:
    """A record as the caller may see it. Hidden and missing records are the same 404."""
    try:
        view = plat.records.view(
            who.user, category, record_id, Purpose(purpose, "", case_no.strip() or None), now_ms=now_ms(),
            client=who.client,
        )  # fmt: skip
    except RecordHidden:
        raise HTTPException(404, f"no {category} record {record_id}") from None
    except RequestRefused as exc:
        raise refusal(exc) from None
    except AuditUnavailable:
        raise audit_down() from None
    return view.as_dict()


@router.get("/policy")
def policy(who: Reader, plat: PlatformDep) -> dict[str, Any]:
    """Purpose codes (with labels) and when a case number is needed."""
    cfg = plat.policy
    return {"purposes": cfg.purposes, "case_number_from": cfg.case_number_from.value}
