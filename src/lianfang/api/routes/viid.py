"""GA/T 1400 (VIID) checkpoint pushes: ``POST /VIID/MotorVehicles``, answered with a ResponseStatusListObject.

Outside ``/api/v1`` because checkpoint systems call the path the standard names. The
caller is a checkpoint system's account: an API token with scope ``viid:push`` held by
a steward of one city (``Authorization: Bearer lf_…``). The push is read with that
city's GA/T 1400 mapping — the only one the city has, or the one named in
``X-Lianfang-Mapping`` when it has several — so the pushed passes are always that
city's data. Every answer, refusals included, is a GA/T 1400 status list.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from lianfang.api.security import Principal, record, requires, steward_city
from lianfang.audit import AuditUnavailable
from lianfang.ingest import viid
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform
from lianfang.policy.roles import Role

router = APIRouter(tags=["GA/T 1400"])

MOTOR_VEHICLES_URL = "/VIID/MotorVehicles"
MAPPING_HEADER = "x-lianfang-mapping"
_pusher = requires(Role.STEWARD, scope="viid:push")

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/VIID+JSON": {
                "schema": {"type": "object", "example": {"MotorVehicleListObject": {"MotorVehicleObject": [{
                    "MotorVehicleID": "360202000011900000010220261201093000000010200001",
                    "TollgateID": "36020200001190000001", "PlateNo": "赣A7Q777", "PlateClass": "02",
                    "PlateColor": "5", "PassTime": "20261201093000", "Speed": 62, "Direction": "1"}]}}},
            },
        },
    },
    "responses": {"200": {"description": "ResponseStatusListObject: one status per object"}},
}


def _answer(plat: Platform, status: int, statuses: list[viid.ObjectStatus],
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = viid.reply(statuses, MOTOR_VEHICLES_URL, plat.tz)
    return JSONResponse(body, status_code=status, headers=headers, media_type=viid.CONTENT_TYPE)


def _refusal(plat: Platform, status: int, code: int, message: str,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return _answer(plat, status, [viid.ObjectStatus("", code, message, "refused")], headers)


@router.post(MOTOR_VEHICLES_URL, openapi_extra=_BODY_DOC, response_class=JSONResponse)
async def motor_vehicles(request: Request) -> JSONResponse:
    """Store a checkpoint system's passes (through the city's mapping); one status per MotorVehicleObject."""
    plat: Platform = request.app.state.platform
    try:
        who: Principal = await _pusher(request)
    except HTTPException as exc:
        code = viid.INVALID_OPERATION if exc.status_code == 403 else viid.OTHER_ERROR
        return _refusal(plat, exc.status_code, code, f"Invalid Operation: {exc.detail}", dict(exc.headers or {}))
    city = steward_city(who)
    limit = plat.settings.viid_max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return await _refused(request, plat, who, 413, viid.BAD_JSON_CONTENT,
                              f"Invalid JSON Content: larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return await _refused(request, plat, who, 413, viid.BAD_JSON_CONTENT,
                                  f"Invalid JSON Content: larger than {limit} bytes")
    try:
        return await run_in_threadpool(_push, request, plat, who, city, bytes(body))
    except AuditUnavailable:
        return _refusal(plat, 503, viid.OTHER_ERROR, "Other Error: the audit trail is unavailable; push refused")


async def _refused(request: Request, plat: Platform, who: Principal, status: int, code: int,
                   message: str) -> JSONResponse:
    await run_in_threadpool(record, request, who, "viid.push", "denied", ("viid:MotorVehicles",), reason=code)
    return _refusal(plat, status, code, message)


def _push(request: Request, plat: Platform, who: Principal, city: str | None, body: bytes) -> JSONResponse:
    def refused(status: int, code: int, message: str) -> JSONResponse:
        record(request, who, "viid.push", "denied", ("viid:MotorVehicles",), reason=code)
        return _refusal(plat, status, code, message)

    if city is None:
        return refused(403, viid.INVALID_OPERATION, "Invalid Operation: a checkpoint account belongs to one city")
    candidates = viid.push_mappings(plat.mappings, city)
    named = request.headers.get(MAPPING_HEADER, "").strip()
    if named:
        candidates = [m for m in candidates if m.id == named]
    if len(candidates) != 1:
        what = f"mapping {named!r} is not" if named else f"{len(candidates)} mappings are"
        return refused(422, viid.INVALID_OPERATION,
                       f"Invalid Operation: {what} a GA/T 1400 MotorVehicles mapping of city {city}"
                       + ("" if named or not candidates else "; name one in X-Lianfang-Mapping"))
    try:
        objects = viid.parse_envelope(body, viid.MOTOR_VEHICLES, plat.settings.viid_max_objects)
    except viid.PushRefused as exc:
        return refused(exc.status, exc.code, exc.message)
    ing: Ingestor = request.app.state.ingestor
    mapping = candidates[0]
    result, statuses = viid.push(ing, mapping, objects, city=city, folder=plat.settings.var_dir / "uploads")
    counts = {o: sum(1 for s in statuses if s.outcome == o)
              for o in ("stored", "duplicate", "quarantined", "refused", "failed")}
    ok = counts["failed"] == 0
    record(request, who, "viid.push", "ok" if ok else "failed",
           (f"batch:{result.batch_id}",) if result is not None else ("viid:MotorVehicles",),
           result_count=counts["stored"], mapping=mapping.ref, objects=len(objects), **counts)
    return _answer(plat, 200, statuses)


__all__ = ["MOTOR_VEHICLES_URL", "router"]
