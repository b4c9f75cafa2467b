"""One-click query across all cities, and entity pages (person, vehicle, case, …) with their links.

Every row of every answer is projected through the policy; every call is audited
before it answers. Personal queries (citizen IDs, phones, names) travel only in a POST
body, never in a URL; the answer never echoes them, and the audit trail keeps only a
blind-index digest. GET serves plates, case numbers and device IDs (links, bookmarks).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField

from lianfang.access.records import RecordHidden, RequestRefused
from lianfang.api.deps import IdPath, PlatformDep
from lianfang.api.inline import inline
from lianfang.api.responses import OrjsonResponse as JSONResponse
from lianfang.api.routes.records import refusal
from lianfang.api.security import Principal, Reader, audit_down, now_ms
from lianfang.audit import AuditUnavailable
from lianfang.platform import Platform
from lianfang.policy.decision import Purpose
from lianfang.search import QueryKind, Unrecognised
from lianfang.search.entities import ENTITY_CATEGORIES
from lianfang.search.export import export_search

router = APIRouter(tags=["search"])


def _page_size(size: int | None, maximum: int, default: int) -> int:
    if size is None:
        return default
    if size > maximum:
        raise HTTPException(400, f"每页最多 {maximum} 条 page size is at most {maximum}")
    return size


class SearchRequest(BaseModel):
    """A search. Sent as a JSON body so that IDs, phone numbers and names never appear in a URL."""

    model_config = ConfigDict(extra="forbid")

    q: str = PField(..., max_length=80, description="Citizen ID, plate, phone, case number, device ID or name "
                                                    "(a name may be followed by a city and a birth year).")
    purpose: str = PField("", max_length=48, description="Purpose code from the policy (see /api/v1/policy).")
    case_no: str = PField("", max_length=64, description="Case number; required for sensitive data.")
    purpose_text: str = PField("", max_length=200, description="Free text on the purpose.")
    kind: QueryKind | None = PField(None, description="Force how the query is read instead of recognising it.")
    category: str | None = PField(None, max_length=40, description="Only this category (to page through it).")
    page: int = PField(1, ge=1, le=10_000)
    size: int | None = PField(None, ge=1, description="Results per group (default and maximum are settings).")


class ExportRequest(BaseModel):
    """A search whose results leave as a file: one category, up to the export maximum (a setting)."""

    model_config = ConfigDict(extra="forbid")

    q: str = PField(..., max_length=80, description="As for POST /api/v1/search.")
    category: str = PField(..., max_length=40, description="The category to export (person, vehicle, …).")
    purpose: str = PField("", max_length=48, description="Purpose code from the policy (see /api/v1/policy).")
    case_no: str = PField("", max_length=64, description="Case number; required for sensitive data.")
    purpose_text: str = PField("", max_length=200, description="Free text on the purpose.")
    kind: QueryKind | None = PField(None, description="Force how the query is read instead of recognising it.")
    format: Literal["csv"] = PField("csv", description="File format.")


@router.post("/search/export")
def search_export(body: ExportRequest, who: Reader, plat: PlatformDep) -> Response:
    """One category of a search as a CSV file, each row as the caller may see it (masked hits masked, withheld
    rows left out and counted in ``X-Lianfang-Withheld``); audited as ``data.export`` with its row count."""
    if body.category not in plat.standard.categories:
        raise HTTPException(400, f"unknown category {body.category!r}")
    try:
        export = export_search(
            plat.searcher, who.user, body.q, Purpose(body.purpose, body.purpose_text, body.case_no.strip() or None),
            category=body.category, limit=plat.settings.search_export_max_rows, now_ms=now_ms(), tz=plat.tz,
            client=who.client, kind=body.kind,
        )  # fmt: skip
    except Unrecognised as exc:
        raise HTTPException(400, {"reason": exc.code, "message": str(exc)}) from None
    except RequestRefused as exc:
        raise refusal(exc) from None
    except AuditUnavailable:
        raise audit_down() from None
    return Response(export.text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{export.file_name}"',
        "X-Lianfang-Rows": str(export.rows),
        "X-Lianfang-Total": str(export.total),
        "X-Lianfang-Withheld": str(export.withheld),
        "X-Lianfang-Truncated": "1" if export.truncated else "0",
    })


@router.post("/search", response_class=JSONResponse)
async def search(body: SearchRequest, who: Reader, plat: PlatformDep) -> JSONResponse:
    """Search all 16 cities at once; results grouped by category, each row as the caller may see it."""
    return await inline(plat, lambda: _search(body, who, plat, allow_personal=True))


@router.get("/search", response_class=JSONResponse)
async def search_by_url(
    who: Reader,
    plat: PlatformDep,
    q: str = Query(..., max_length=80, description="A plate, case number or device ID (not personal data)."),
    purpose: str = Query("", max_length=48),
    case_no: str = Query("", max_length=64),
    kind: QueryKind | None = Query(None),
    category: str | None = Query(None, max_length=40),
    page: int = Query(1, ge=1, le=10_000),
    size: int | None = Query(None, ge=1),
) -> JSONResponse:
    """The same search for links and bookmarks; personal queries (ID, phone, name) must use POST."""
    body = SearchRequest(q=q, purpose=purpose, case_no=case_no, kind=kind, category=category, page=page, size=size)
    return await inline(plat, lambda: _search(body, who, plat, allow_personal=False))


def _search(body: SearchRequest, who: Principal, plat: Platform, *, allow_personal: bool) -> JSONResponse:
    settings = plat.settings
    per_page = _page_size(body.size, settings.search_max_page_size, settings.search_page_size)
    if body.category is not None and body.category not in plat.standard.categories:
        raise HTTPException(400, f"unknown category {body.category!r}")
    if not allow_personal:
        try:
            query = plat.searcher.recogniser.recognise(body.q, body.kind)
        except Unrecognised as exc:
            raise HTTPException(400, {"reason": exc.code, "message": str(exc)}) from None
        if query.personal:
            raise HTTPException(400, {"reason": "query.personal_in_url",
                                      "message": "身份号码、电话、姓名须用 POST 查询 IDs, phone numbers and names "
                                                 "must be searched with POST /api/v1/search, not in a URL"})
    try:
        result = plat.searcher.search(
            who.user, body.q, Purpose(body.purpose, body.purpose_text, body.case_no.strip() or None),
            now_ms=now_ms(), client=who.client, kind=body.kind, category=body.category, page=body.page,
            size=per_page,
        )  # fmt: skip
    except Unrecognised as exc:
        raise HTTPException(400, {"reason": exc.code, "message": str(exc)}) from None
    except RequestRefused as exc:
        raise refusal(exc) from None
    except AuditUnavailable:
        raise audit_down() from None
    return JSONResponse(result.as_dict())  # plain JSON values already: skips FastAPI's re-encoding


@router.get("/entities/{category}/{record_id}", response_class=JSONResponse)
async def entity(
    category: str,
    record_id: IdPath,
    who: Reader,
    plat: PlatformDep,
    purpose: str = Query("", max_length=48, description="Purpose code from the policy (see /api/v1/policy)."),
    case_no: str = Query("", max_length=64, description="Case number; required for sensitive data."),
    size: int | None = Query(None, ge=1, description="Linked records per category."),
) -> JSONResponse:
    """A person, vehicle, case, … page: the record and what the standard links to it, from every city."""
    settings = plat.settings
    per_page = _page_size(size, settings.search_max_page_size, settings.search_page_size)
    if category not in ENTITY_CATEGORIES:
        raise HTTPException(404, f"no {category} pages")
    try:
        return JSONResponse(await inline(plat, lambda: plat.entities.view(
            who.user, category, record_id, Purpose(purpose, "", case_no.strip() or None), now_ms=now_ms(),
            client=who.client, size=per_page)))
    except RecordHidden:
        raise HTTPException(404, f"no {category} record {record_id}") from None
    except RequestRefused as exc:
        raise refusal(exc) from None
    except AuditUnavailable:
        raise audit_down() from None
