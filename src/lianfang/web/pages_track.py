"""轨迹 the trajectory pages: a plate's sightings from every city, or those of a person's vehicles,
on a map, as a time chart and as a timeline table.

``/trajectories?plate=…&since=…&until=…&purpose=…&case_no=…`` (plates are not personal
data, so the page is a GET and can be bookmarked) and ``/trajectories/person/{record_id}?…``
(a person by the record ID of their file, never a citizen ID). The tracks come from the
same service as the API (:meth:`~lianfang.track.Trajectories.for_plate` / ``for_person``:
policy and audit included) and are rendered into the page as one JSON block for
``static/track.js`` (the map: city boundaries and checkpoints from ``/api/v1/geo/…``, no tile
server; each track in its own colour) and ``static/timeline.js`` (the ECharts time chart).
Masked points are named on their city and counted, never placed or timed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from lianfang.access.records import RecordHidden, RequestRefused
from lianfang.api.deps import IdPath
from lianfang.api.security import now_ms
from lianfang.audit import AuditUnavailable
from lianfang.policy.decision import Purpose
from lianfang.track import InvalidPlate
from lianfang.track.window import WindowError, resolve_window
from lianfang.web.i18n import add_texts
from lianfang.web.page import Viewer, Viewing, city_label, forbid, reads_data
from lianfang.web.pages_access import request_link
from lianfang.web.pages_search import access_link, entity_link, refusal_message, trajectory_link

router = APIRouter(include_in_schema=False)

add_texts({
    "err_window_format": {"zh": "时间格式应为 ISO 8601，如 2026-03-01T08:00:00（按本平台时区）。",
                          "en": "Times are ISO 8601, e.g. 2026-03-01T08:00:00 (read in the platform's zone)."},
    "err_window_reversed": {"zh": "开始时间须早于结束时间。", "en": "The start must be before the end."},
    "err_window_too_wide": {"zh": "时间范围不能超过 {n} 天，请缩小范围。",
                            "en": "The window is wider than {n} days; narrow it."},
    "err_plate": {"zh": "不是有效的号牌号码（GA 36），如 赣A12345。",
                  "en": "Not a plate number (GA 36), e.g. 赣A12345."},
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
    "track_chart": {"zh": "过车时间图", "en": "Sightings over time"},
    "chart_help": {"zh": "横轴为时间（北京时间），纵轴为城市；◆ 跨市进入，▲ 疑似套牌。"
                         "脱敏记录无时间，只按城市计数（右侧）。",
                   "en": "Time (Beijing time) across, city down; ◆ enters a city, ▲ suspected clone. Masked sightings "
                         "have no time: they are only counted per city (right)."},
    "chart_masked": {"zh": "脱敏记录（条）", "en": "Masked sightings"},
    "leaves_to": {"zh": "随后进入{city}", "en": "next: enters {city}"},
    "person_track_title": {"zh": "人员关联车辆轨迹", "en": "Trajectories of a person's vehicles"},
    "person_track_help": {
        "zh": "登记在该人员名下的车辆的过车轨迹，每辆车一种颜色。人员与车辆的关联（车辆所有人）属敏感数据："
              "无权查看的车辆只显示所在城市和“申请授权”。",
        "en": "The tracks of the vehicles registered to this person, one colour each. The link person → vehicle "
              "(the vehicle's owner) is sensitive: a vehicle you may not follow shows only its city and "
              "\"request access\".",
    },
    "person_file": {"zh": "人员档案", "en": "Person file"},
    "person_file_of": {"zh": "{city} 人员档案 #{id}", "en": "Person file #{id}, {city}"},
    "person_vehicles": {"zh": "关联车辆", "en": "Vehicles"},
    "person_vehicle_counts": {"zh": "车辆 {n} 辆，未显示 {denied} 辆。", "en": "{n} vehicles, {denied} not shown."},
    "no_vehicles": {"zh": "该人员名下没有可查看的车辆。", "en": "No vehicles of this person that you may see."},
    "vehicle_masked": {"zh": "{city}登记车辆（已脱敏）", "en": "vehicle registered in {city} (masked)"},
    "vehicle_track_counts": {"zh": "可见 {allow} 条，脱敏 {mask} 条", "en": "{allow} shown, {mask} masked"},
})  # fmt: skip

#: one colour per followed vehicle (records.css has the same, as ``.veh-0`` … ``.veh-7``)
PALETTE = ("#1d5aa6", "#c2410c", "#2e7d32", "#7b1fa2", "#00838f", "#ad1457", "#5d4037", "#455a64")

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


def _epoch_ms(text: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(text)).timestamp() * 1000) if text else None
    except ValueError:
        return None


def _shown_points(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The readable points for the map and the chart; ``leaves`` names the city a masked next point enters
    (the crossing is drawn at the last readable time, the masked point's own time is not known)."""
    out = []
    for i, r in enumerate(rows):
        if r["access"] != "allow":
            continue
        after = rows[i + 1] if i + 1 < len(rows) else None
        leaves = after["city"] if after and after["access"] != "allow" and after["enters"] else None
        out.append({"seq": r["seq"], "id": r["id"], "lon": r["longitude"], "lat": r["latitude"], "when": r["when"],
                    "t": _epoch_ms(r["passed_at"]), "name": r["device_name"] or r["device_id"], "city": r["city"],
                    "clone": bool(r["clone_suspect"]), "kmh": r["implied_kmh"], "enters": bool(r["enters"]),
                    "leaves": leaves})
    return out


def _map_data(v: Viewer, tracks: list[tuple[str, list[dict[str, Any]]]], purpose: Purpose) -> dict[str, Any]:
    """What the map and chart scripts need — one entry per (label, timeline rows) track, each in its own
    colour — and nothing a masked point does not show (no time, no place: a count per city)."""
    t = v.t
    every = [r for _, rows in tracks for r in rows]
    masked = Counter(r["city_code"] for r in every if r["access"] != "allow")
    return {
        "tracks": [{"label": label, "colour": PALETTE[n % len(PALETTE)], "points": _shown_points(rows)}
                   for n, (label, rows) in enumerate(tracks)],
        "masked": [{"city_code": code, "n": n,
                    "label": t["somewhere_in"].format(city=city_label(v.plat, code)) + f" × {n}"}
                   for code, n in masked.items()],
        "cities": {r["city_code"]: r["city"] for r in every},
        "purpose": purpose.code, "case_no": purpose.case_no or "",
        "texts": {"no_cities": t["map_no_cities"], "clone": t["clone_suspect"], "checkpoint": t["track_checkpoint"],
                  "enters": t["enters_city"], "leaves": t["leaves_to"], "masked": t["chart_masked"],
                  "time": t["time"], "city": t["city"]},
    }  # fmt: skip


def _input_error(v: Viewer, exc: ValueError) -> str:
    """A refused plate or time window, said in the reader's language."""
    if isinstance(exc, WindowError):
        return v.t[f"err_{exc.code.replace('.', '_')}"].format(n=exc.max_days)
    return v.t["err_plate"]


def _masked_cities(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted(Counter(r["city"] for r in rows if r["access"] != "allow").items())


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
        return v.render("trajectory.html", status=400, error=_input_error(v, exc), **context)
    except RequestRefused as exc:
        return v.render("trajectory.html", status=403, error=refusal_message(v, exc.reason), **context)
    except RecordHidden:
        raise v.refuse(404, "not_found_title") from None
    except AuditUnavailable:
        return v.render("trajectory.html", status=503, error=v.t["err_audit"], **context)
    rows = _rows(v, payload, wanted)
    return v.render("trajectory.html", track=payload, rows=rows, masked=_masked_cities(rows),
                    map_data=_map_data(v, [(payload["plate"], rows)], wanted),
                    exports={fmt: _export_link(payload["plate"], fmt, payload, wanted) for fmt in ("csv", "geojson")},
                    **context)


@router.get("/trajectories/person/{record_id}")
def person_trajectory(record_id: IdPath, v: Viewing, since: str = "", until: str = "", purpose: str = "",
                      case_no: str = "") -> Response:
    """The tracks of the vehicles registered to a person (by file record ID), as the service projects them."""
    _readers_only(v)
    s = v.plat.settings
    form = {"since": since[:40], "until": until[:40], "purpose": purpose[:48], "case_no": case_no.strip()[:64]}
    wanted = Purpose(form["purpose"], "", form["case_no"] or None)
    context: dict[str, Any] = {"f": form, "purposes": list(v.plat.policy.purposes), "default_days":
                               s.track_default_days, "max_days": s.track_max_days, "record_id": record_id,
                               "person_href": entity_link("person", record_id, wanted)}
    try:
        window = resolve_window(form["since"], form["until"], now_ms=now_ms(), tz=v.plat.tz,
                                default_days=s.track_default_days, max_days=s.track_max_days)
        payload = v.plat.trajectories.for_person(v.user, record_id, window.since_ms, window.until_ms, wanted,
                                                 now_ms=now_ms(), client=v.client)
    except WindowError as exc:
        return v.render("trajectory_person.html", status=400, error=_input_error(v, exc), **context)
    except RequestRefused as exc:
        return v.render("trajectory_person.html", status=403, error=refusal_message(v, exc.reason), **context)
    except RecordHidden:
        raise v.refuse(404, "not_found_title") from None
    except AuditUnavailable:
        return v.render("trajectory_person.html", status=503, error=v.t["err_audit"], **context)
    vehicles: list[dict[str, Any]] = []
    tracks: list[tuple[str, list[dict[str, Any]]]] = []
    for item in payload["vehicles"]:
        record, track = item["vehicle"], item["track"]
        shown = {"id": record["id"], "city_code": record["city_code"], "city": city_label(v.plat, record["city_code"]),
                 "access": record["access"], "href": entity_link("vehicle", record["id"], wanted)}
        if track is None:  # a masked hit: its city and a way to ask, no plate, no track
            vehicles.append({**shown, "request": access_link(record, wanted)})
            continue
        rows = _rows(v, track, wanted)
        # only what identifies the vehicle: never the owner's fields the record also carries
        vehicles.append({**shown, "plate": track["plate"], "brand": record.get("values", {}).get("brand"),
                         "colour": len(tracks) % len(PALETTE), "track": track, "rows": rows,
                         "plate_href": trajectory_link(track["plate"], wanted, since=payload["since"],
                                                       until=payload["until"])})
        tracks.append((track["plate"], rows))
    every = [r for _, rows in tracks for r in rows]
    return v.render("trajectory_person.html", person=payload["person"], window=payload, vehicles=vehicles,
                    counts=payload["counts"], masked=_masked_cities(every),
                    person_city=city_label(v.plat, payload["person"]["city_code"]),
                    map_data=_map_data(v, tracks, wanted) if tracks else None, **context)


__all__ = ["PALETTE", "router"]
