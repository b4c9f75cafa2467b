"""轨迹 the trajectory page: a plate's sightings from every city on a map and as a timeline.

``/trajectories?plate=…&since=…&until=…&purpose=…&case_no=…`` (plates are not personal
data, so the page is a GET and can be bookmarked). The track comes from the same service
as the API (:meth:`~lianfang.track.Trajectories.for_plate`: policy and audit included) and
is rendered into the page as a JSON block for ``static/track.js``, which draws the city
boundaries and checkpoints (``/api/v1/geo/…``, no tile server), the readable points joined
in time order, and names the cities of masked points without placing them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from lianfang.access.records import RecordHidden, RequestRefused
from lianfang.api.security import now_ms
from lianfang.audit import AuditUnavailable
from lianfang.policy.decision import Purpose
from lianfang.track import InvalidPlate
from lianfang.track.window import WindowError, resolve_window
from lianfang.web.i18n import add_texts
from lianfang.web.page import Viewer, Viewing, forbid, reads_data
from lianfang.web.pages_access import request_link
from lianfang.web.pages_search import city_label, refusal_message

router = APIRouter(include_in_schema=False)

add_texts({
    "track_title": {"zh": "车辆轨迹", "en": "Vehicle trajectory"},
    "track_help": {
        "zh": "全省各市的过车记录按时间排序连成轨迹。行踪轨迹属敏感数据：须填写用途和案件编号，查询记入审计日志；"
              "外市记录未获授权时只显示所在城市。",
        "en": "Sightings from every city in time order, joined into a track. Movements are sensitive data: a purpose "
              "and a case number are required and the query is recorded; another city's sightings show only their "
              "city until access is granted.",
    },
    "track_plate": {"zh": "号牌号码", "en": "Plate"},
    "track_plate_hint": {"zh": "如 赣A7Q777", "en": "e.g. 赣A7Q777"},
    "track_go": {"zh": "查询轨迹", "en": "Show trajectory"},
    "track_window": {"zh": "时间范围", "en": "Window"},
    "track_window_help": {"zh": "不填则为最近 {days} 天；最长 {max} 天。",
                          "en": "Empty: the last {days} days; at most {max} days."},
    "track_counts": {"zh": "可见 {allow} 条，脱敏 {mask} 条，未显示 {deny} 条；"
                           "跨市 {crossings} 次，疑似套牌 {clones} 处。",
                     "en": "{allow} shown, {mask} masked, {deny} not shown; {crossings} city crossings, "
                           "{clones} suspected cloned-plate jumps."},
    "track_truncated": {"zh": "记录过多，仅显示最早的部分，请缩小时间范围。",
                        "en": "Too many sightings: only the earliest are shown; narrow the window."},
    "track_empty": {"zh": "该时间范围内没有过车记录。", "en": "No sightings in this window."},
    "track_map": {"zh": "轨迹地图", "en": "Trajectory map"},
    "map_loading": {"zh": "正在加载地图图层…", "en": "Loading map layers…"},
    "track_timeline": {"zh": "时间线", "en": "Timeline"},
    "track_checkpoint": {"zh": "卡口", "en": "Checkpoint"},
    "track_direction": {"zh": "方向", "en": "Direction"},
    "track_speed": {"zh": "车速（km/h）", "en": "Speed (km/h)"},
    "track_flags": {"zh": "标记", "en": "Flags"},
    "enters_city": {"zh": "进入{city}", "en": "enters {city}"},
    "clone_suspect": {"zh": "疑似套牌（需 {kmh} km/h）", "en": "suspected clone ({kmh} km/h needed)"},
    "somewhere_in": {"zh": "在{city}某处（已脱敏）", "en": "somewhere in {city} (masked)"},
    "masked_cities": {"zh": "脱敏记录所在城市", "en": "Cities of masked sightings"},
    "masked_in_city": {"zh": "{city}：{n} 条", "en": "{city}: {n}"},
    "track_export": {"zh": "导出", "en": "Export"},
    "export_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "export_geojson": {"zh": "导出 GeoJSON", "en": "Export GeoJSON"},
    "export_note": {"zh": "导出内容与页面所见一致，导出操作记入审计日志。",
                    "en": "Exports hold what this page shows, and are recorded in the audit trail."},
    "map_no_cities": {"zh": "尚未导入城市边界。", "en": "No city boundaries have been imported."},
})  # fmt: skip

_POINT_FIELDS = ("passed_at", "device_name", "device_id", "road_name", "direction", "speed_kmh", "longitude",
                 "latitude", "enters_city", "clone_suspect", "implied_kmh", "distance_km")


def _readers_only(v: Viewer) -> None:
    if not reads_data(v):
        raise forbid(v, [])


def _export_link(plate: str, fmt: str, payload: dict[str, Any], purpose: Purpose) -> str:
    query = {"format": fmt, "since": payload["since"], "until": payload["until"], "purpose": purpose.code,
             "case_no": purpose.case_no or ""}
    return f"/api/v1/trajectories/vehicle/{quote(plate, safe='')}/export?" + urlencode(query)


def _rows(v: Viewer, payload: dict[str, Any], purpose: Purpose) -> list[dict[str, Any]]:
    """The timeline: every point in order, with its city named and the crossings marked."""
    entering = {c["to_id"] for c in payload["crossings"]}
    out = []
    for n, p in enumerate(payload["points"], 1):
        row: dict[str, Any] = {"seq": n, "id": p["id"], "access": p["access"], "city_code": p["city_code"],
                               "city": city_label(v.plat, p["city_code"]), "enters": p["id"] in entering}
        if p["access"] == "allow":
            row.update({k: p.get(k) for k in _POINT_FIELDS})
            row["when"] = str(p.get("passed_at") or "").replace("T", " ")[:19]
        else:
            ask = p.get("request_access") or {}
            row["request"] = request_link(owner_city=ask.get("owner_city", ""), level=ask.get("level", ""),
                                          scope=ask.get("scope", ""), keys=",".join(ask.get("keys", [])),
                                          purpose=purpose.code, case_no=purpose.case_no or "") if ask else None
        out.append(row)
    return out


def _map_data(v: Viewer, payload: dict[str, Any], rows: list[dict[str, Any]], purpose: Purpose) -> dict[str, Any]:
    """What the map script needs, and nothing a masked point does not show (no time, no place)."""
    t = v.t
    masked = Counter(r["city_code"] for r in rows if r["access"] != "allow")
    return {
        "points": [{"seq": r["seq"], "id": r["id"], "lon": r["longitude"], "lat": r["latitude"],
                    "when": r["when"], "name": r["device_name"] or r["device_id"], "city": r["city"],
                    "clone": bool(r["clone_suspect"]), "enters": bool(r["enters"])}
                   for r in rows if r["access"] == "allow"],
        "masked": [{"city_code": code, "n": n,
                    "label": t["somewhere_in"].format(city=city_label(v.plat, code)) + f" × {n}"}
                   for code, n in masked.items()],
        "purpose": purpose.code, "case_no": purpose.case_no or "",
        "texts": {"no_cities": t["map_no_cities"], "clone": t["clone_suspect"], "checkpoint": t["track_checkpoint"]},
    }  # fmt: skip


@router.get("/trajectories")
def trajectory(v: Viewing, plate: str = "", since: str = "", until: str = "", purpose: str = "",
               case_no: str = "") -> Response:
    _readers_only(v)
    s = v.plat.settings
    form = {"plate": plate[:20], "since": since[:40], "until": until[:40], "purpose": purpose[:48] or
            ("case_investigation" if not plate else ""), "case_no": case_no.strip()[:64]}
    context: dict[str, Any] = {"f": form, "purposes": list(v.plat.policy.purposes), "default_days":
                               s.track_default_days, "max_days": s.track_max_days}
    if not plate.strip():
        return v.render("trajectory.html", **context)
    wanted = Purpose(form["purpose"], "", form["case_no"] or None)
    try:
        window = resolve_window(form["since"], form["until"], now_ms=now_ms(), tz=v.plat.tz,
                                default_days=s.track_default_days, max_days=s.track_max_days)
        payload = v.plat.trajectories.for_plate(v.user, form["plate"], window.since_ms, window.until_ms, wanted,
                                                now_ms=now_ms(), client=v.client)
    except (InvalidPlate, WindowError) as exc:
        return v.render("trajectory.html", status=400, error=str(exc), **context)
    except RequestRefused as exc:
        return v.render("trajectory.html", status=403, error=refusal_message(v, exc.reason), **context)
    except RecordHidden:
        raise v.refuse(404, "not_found_title") from None
    except AuditUnavailable:
        return v.render("trajectory.html", status=503, error=v.t["err_audit"], **context)
    rows = _rows(v, payload, wanted)
    masked = Counter(r["city"] for r in rows if r["access"] != "allow")
    return v.render("trajectory.html", track=payload, rows=rows, masked=sorted(masked.items()),
                    map_data=_map_data(v, payload, rows, wanted),
                    exports={fmt: _export_link(payload["plate"], fmt, payload, wanted) for fmt in ("csv", "geojson")},
                    **context)


__all__ = ["router"]
