"""Trajectories (轨迹) of a plate or of a person's vehicles, and their export; through the policy, audited.

Times are ISO 8601 (``2026-03-01T08:00``; without an offset they are read in the
platform's zone). The default window is the last ``track_default_days`` days; a
reversed window or one wider than ``track_max_days`` is a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, HTTPException, Query, Response

from lianfang.access.records import RecordHidden, RequestRefused
from lianfang.api.deps import IdPath, PlatformDep
from lianfang.api.inline import inline
from lianfang.api.responses import OrjsonResponse as JSONResponse
from lianfang.api.routes.records import refusal
from lianfang.api.security import Reader, audit_down, now_ms
from lianfang.audit import AuditUnavailable
from lianfang.platform import Platform
from lianfang.policy.decision import Purpose
from lianfang.track import InvalidPlate, Window, WindowError, resolve_window
from lianfang.track.export import FORMATS, file_name, render

router = APIRouter(tags=["trajectories"])
T = TypeVar("T")

SINCE = Query("", max_length=40, description="Start, ISO 8601 (default: until minus track_default_days).")
UNTIL = Query("", max_length=40, description="End, ISO 8601 (default: now).")
PURPOSE = Query("", max_length=48, description="Purpose code from the policy (see /api/v1/policy).")
CASE_NO = Query("", max_length=64, description="Case number: trajectories are sensitive data and need one.")


def _window(plat: Platform, since: str, until: str) -> Window:
    s = plat.settings
    try:
        return resolve_window(since, until, now_ms=now_ms(), tz=plat.tz, default_days=s.track_default_days,
                              max_days=s.track_max_days)
    except WindowError as exc:
        raise HTTPException(400, str(exc)) from None


def _answer(call: Callable[[], T]) -> T:
    """Run a trajectory call, turning refusals into the API's answers."""
    try:
        return call()
    except InvalidPlate as exc:
        raise HTTPException(400, str(exc)) from None
    except WindowError as exc:
        raise HTTPException(400, str(exc)) from None
    except RecordHidden as exc:
        raise HTTPException(404, str(exc)) from None
    except RequestRefused as exc:
        raise refusal(exc) from None
    except AuditUnavailable:
        raise audit_down() from None


def _purpose(purpose: str, case_no: str) -> Purpose:
    return Purpose(purpose, "", case_no.strip() or None)


@router.get("/trajectories/vehicle/{plate}", response_class=JSONResponse)
async def vehicle_track(plate: str, who: Reader, plat: PlatformDep, since: str = SINCE, until: str = UNTIL,
                        purpose: str = PURPOSE, case_no: str = CASE_NO) -> JSONResponse:
    """Every sighting of the plate in the window, in time order: readable points in full, masked ones as
    their city only, crossings between cities and suspected cloned-plate jumps marked."""
    w = _window(plat, since, until)
    return JSONResponse(await inline(plat, lambda: _answer(lambda: plat.trajectories.for_plate(
        who.user, plate, w.since_ms, w.until_ms, _purpose(purpose, case_no), now_ms=now_ms(), client=who.client))))


@router.get("/trajectories/vehicle/{plate}/export")
def vehicle_track_export(plate: str, who: Reader, plat: PlatformDep,
                         format: str = Query("csv", pattern="^(csv|geojson)$", description="csv or geojson."),
                         since: str = SINCE, until: str = UNTIL, purpose: str = PURPOSE,
                         case_no: str = CASE_NO) -> Response:
    """The track as a file (what the caller may see, nothing more); audited as an export with its row count."""
    w = _window(plat, since, until)
    track, _ = _answer(lambda: plat.trajectories.export_plate(
        who.user, plate, w.since_ms, w.until_ms, _purpose(purpose, case_no), format, now_ms=now_ms(),
        client=who.client))
    return Response(render(track, format), media_type=FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{file_name(track, format)}"'})


@router.get("/trajectories/person/{record_id}", response_class=JSONResponse)
async def person_track(record_id: IdPath, who: Reader, plat: PlatformDep, since: str = SINCE, until: str = UNTIL,
                       purpose: str = PURPOSE, case_no: str = CASE_NO) -> JSONResponse:
    """The tracks of the vehicles registered to a person record (hidden and missing records: the same 404)."""
    w = _window(plat, since, until)
    return JSONResponse(await inline(plat, lambda: _answer(lambda: plat.trajectories.for_person(
        who.user, record_id, w.since_ms, w.until_ms, _purpose(purpose, case_no), now_ms=now_ms(),
        client=who.client))))
