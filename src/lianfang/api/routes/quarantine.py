"""Quarantine through the API: list, one entry (masked), retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from lianfang.api.deps import MAX_ID, IdPath, IngestorDep, PageDep
from lianfang.api.security import Steward, record, steward_city
from lianfang.api.timefmt import localise
from lianfang.ingest import quarantine as q

router = APIRouter(tags=["quarantine"])


class RetryRequest(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(max_length=1000)
    overrides: dict[str, str] = {}


@router.get("/quarantine")
def list_quarantine(
    who: Steward,
    ing: IngestorDep,
    page: PageDep,
    status: str | None = "open",
    reason: str | None = None,
    category: str | None = None,
    city: str | None = None,
) -> dict[str, Any]:
    """Quarantined records with reasons and source positions (never values); a city steward sees their city."""
    home = steward_city(who)
    if home is not None:
        if city not in (None, home):
            raise HTTPException(403, f"you steward {home}, not {city}")
        city = home
    total, items = q.list_items(
        ing,
        status=status,
        reason=reason,
        category=category,
        city=city,
        limit=page.limit,
        offset=page.offset,
    )
    return {
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "items": [localise(i.as_dict(), ing.tz) for i in items],
    }


@router.get("/quarantine/{item_id}")
def show_quarantine(item_id: IdPath, request: Request, who: Steward, ing: IngestorDep) -> dict[str, Any]:
    """One entry; values feeding personal fields (and unknown columns) are masked."""
    found = q.get_item(ing, item_id)
    home = steward_city(who)
    if found is None or (home is not None and found[0].city_code != home):
        raise HTTPException(404, f"no quarantine entry {item_id}")
    item, fields, raw = found
    masked = q.masked_fields(ing, item, fields)
    record(request, who, "quarantine.view", "masked", (f"quarantine:{item_id}",), result_count=1)
    return {**localise(item.as_dict(), ing.tz), "fields": masked, "raw_bytes": len(raw)}


@router.post("/quarantine/retry")
def retry_quarantine(body: RetryRequest, request: Request, who: Steward, ing: IngestorDep) -> dict[str, int]:
    """Re-process entries through the current mappings, with optional source-field corrections."""
    home = steward_city(who)
    if home is not None:
        for item_id in body.ids:
            found = q.get_item(ing, item_id)
            if found is None or found[0].city_code != home:
                raise HTTPException(404, f"no quarantine entry {item_id}")
    out = q.retry(ing, body.ids, overrides=body.overrides)
    record(request, who, "quarantine.retry", "ok", tuple(f"quarantine:{i}" for i in body.ids[:50]),
           result_count=len(body.ids), corrected=sorted(body.overrides), **dict(out.__dict__))
    return dict(out.__dict__)
