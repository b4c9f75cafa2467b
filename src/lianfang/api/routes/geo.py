"""Map layers served by the platform itself (no tile server): city boundaries and checkpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Response

from lianfang.access.records import RequestRefused
from lianfang.api.deps import PlatformDep
from lianfang.api.routes.records import refusal
from lianfang.api.security import Reader, audit_down, now_ms
from lianfang.audit import AuditUnavailable
from lianfang.policy.decision import Purpose
from lianfang.track.boundaries import boundaries_file

router = APIRouter(tags=["map"])


@router.get("/geo/cities")
def cities(who: Reader, plat: PlatformDep) -> Response:
    """The province's city boundaries (GeoJSON), as imported with ``lianfang geo import``."""
    path = boundaries_file(plat.settings.resolved_geo_dir())
    if not path.is_file():
        raise HTTPException(404, "尚未导入城市边界 no city boundaries have been imported (lianfang geo import FILE)")
    return Response(path.read_bytes(), media_type="application/geo+json")


@router.get("/geo/devices")
def devices(
    who: Reader,
    plat: PlatformDep,
    purpose: str = Query("", max_length=48, description="Purpose code from the policy (see /api/v1/policy)."),
    case_no: str = Query("", max_length=64, description="Case number (needed where devices are sensitive)."),
) -> dict[str, Any]:
    """Checkpoints and cameras the caller may see, as GeoJSON points (each device through the policy)."""
    try:
        return plat.map_layers.checkpoints(who.user, Purpose(purpose, "", case_no.strip() or None), now_ms=now_ms(),
                                           client=who.client)
    except RequestRefused as exc:
        raise refusal(exc) from None
    except AuditUnavailable:
        raise audit_down() from None
