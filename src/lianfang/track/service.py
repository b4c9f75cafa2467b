"""Trajectories (轨迹) of a plate, or of a person through their vehicles, as the reader may see them.

Every sighting of the plate in the window, in every city, goes through the
:class:`~lianfang.access.projection.Projector` (sightings have the policy floor
``sensitive``: movements are personal data):

* readable points come in full: time, checkpoint (name, place, road), direction,
  speed, lane;
* masked points come as ``{id, city_code, access: "mask", request_access}`` only —
  no time, checkpoint or speed — in track order, so a crossing into a city whose
  data the reader may not see is visible, and access can be asked for;
* denied points are only counted.

Crossings are computed over readable and masked points by owning city; cloned-plate
flags only between readable points (see :mod:`lianfang.track.build`). A request that
names no purpose or, since sightings are sensitive, no case number is refused
before anything is read. Each call writes one audit event before it returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, MetaData, Row, bindparam, select

from lianfang.access.approvals import Approvals
from lianfang.access.projection import LINEAGE, Projector, Reading, RecordView
from lianfang.access.records import HIDDEN_REASONS, RecordHidden, RecordReader, RequestRefused
from lianfang.audit import Audit, AuditEvent
from lianfang.crypto import BlindIndex
from lianfang.identity.directory import User
from lianfang.policy.decision import Effect, Purpose, RecordRef, ScopeKind, effective_level
from lianfang.standard.levels import Level
from lianfang.standard.types import VALUE_TYPES, Context, InvalidValue
from lianfang.store.codec import from_epoch_ms
from lianfang.store.engine import RawRead, read_only
from lianfang.track.build import CloneRule, Point, Track, build_track
from lianfang.track.window import Window, check_window

#: Record-level refusals that concern the request (who asks, why), not one record.
REQUEST_REFUSALS = frozenset({
    "deny.purpose_missing", "deny.purpose_unknown", "deny.case_number_required", "deny.no_data_access",
    "deny.unknown_actor",
})  # fmt: skip
MAX_VEHICLES = 20  # vehicles of one person followed in one request
_DEVICE_FIELDS = ("name", "road_name", "longitude", "latitude")
_POINT_FIELDS = ("kind", "device_id", "direction", "speed_kmh", "lane_no", "plate_type", "plate_color",
                 "vehicle_color")


class InvalidPlate(ValueError):
    """Not a plate number the standard knows (the message never repeats the input)."""


def request_refusal(projector: Projector, reading: Reading, category: str, level: Level) -> str | None:
    """Why the request itself is refused for data of ``category`` at ``level`` (no purpose, no case
    number, a role that reads nothing), or None: decided once, before any record is read."""
    actor = reading.actor
    city = actor.city_code or (actor.unit_code if actor.province else "000000")
    decision = projector.decide_record(reading, RecordRef(category, 0, city, level))
    return decision.reason if decision.effect is Effect.DENY and decision.reason in REQUEST_REFUSALS else None


def plate_target(plate: str) -> str:
    """The audit target naming a plate (``plate:赣A7Q777``; plates are not personal data)."""
    return "plate:" + plate


@dataclass
class PlateTrack:
    """One plate's track as the reader may see it, with what the audit event needs."""

    plate: str
    window: Window
    payload: dict[str, Any]
    shown_ids: list[int] = field(default_factory=list)
    grant_ids: list[int] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    top_level: Level | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.payload["counts"]
        return counts

    @property
    def targets(self) -> list[str]:
        return [plate_target(self.plate), *(f"sighting:{i}" for i in self.shown_ids)]


class Trajectories:
    def __init__(self, engine: Engine, metadata: MetaData, projector: Projector, approvals: Approvals, audit: Audit,
                 records: RecordReader, blind: BlindIndex, *, rule: CloneRule, max_days: int, max_points: int):
        self.engine = engine
        self.blind = blind
        self.projector = projector
        self.approvals = approvals
        self.audit = audit
        self.records = records
        self.rule = rule
        self.max_days = max_days
        self.max_points = max_points
        self.sightings = metadata.tables["rec_sighting"]
        self.devices = metadata.tables["rec_device"]
        self.persons = metadata.tables["rec_person"]
        self.vehicles = metadata.tables["rec_vehicle"]
        standard = projector.standard
        self._sighting = standard.category("sighting")
        plate_field = standard.category("sighting").field("plate_no")
        self._plate = VALUE_TYPES["plate"].compile(plate_field, None, Context())
        self._floor = effective_level(standard.category("sighting").default_level, projector.policy.floor("sighting"))
        self._owner_level = standard.category("vehicle").field("owner_citizen_id").level
        # built once: every trajectory asks them (the values are bound parameters)
        sg, d = self.sightings, self.devices
        # what a point's projection reads (lineage=False): not the lineage, the raw record's hash or the
        # dedup key, a third of the row's columns, each a Python object made per row fetched
        shown = [c for c in sg.c if c.name not in (*LINEAGE, "raw_hash", "dedup_key", "ingested_at")]
        self._track = (select(*shown).where(sg.c.plate_no == bindparam("plate"), sg.c.passed_at >= bindparam("since"),
                                        sg.c.passed_at <= bindparam("until"))
                       .order_by(sg.c.passed_at, sg.c.id).limit(bindparam("limit")))
        self._track_read = RawRead(engine, self._track)  # every trajectory asks it: the driver's rows as they come
        self._places = select(d).where(d.c.device_id.in_(bindparam("ids", expanding=True))).order_by(d.c.id)

    # -- entry points ---------------------------------------------------------------------

    def normalise_plate(self, text: str) -> str:
        try:
            return str(self._plate(text.strip()))
        except InvalidValue:
            raise InvalidPlate("not a plate number (GA 36), e.g. 赣A12345") from None

    def for_plate(self, user: User, plate: str, since_ms: int, until_ms: int, purpose: Purpose | None, *,
                  now_ms: int, client: str | None = None) -> dict[str, Any]:
        """The plate's track; audited as ``data.track``."""
        plate = self.normalise_plate(plate)
        window = check_window(since_ms, until_ms, self.max_days)
        reading = self._reading(user, purpose, now_ms, client, (plate_target(plate),), {"plate": plate})
        track = self.plate_track(reading, plate, window)
        self._record(reading, "data.track", track.targets, track.counts, client, track.grant_ids, {
            "plate": plate, **self._window_detail(window), "counts": track.counts, "reasons": dict(track.reasons),
            **({"level": track.top_level.value} if track.top_level else {}),
        })  # fmt: skip
        return track.payload

    def export_plate(self, user: User, plate: str, since_ms: int, until_ms: int, purpose: Purpose | None, fmt: str,
                     *, now_ms: int, client: str | None = None) -> tuple[dict[str, Any], int]:
        """The track to export and its row count; audited as ``data.export`` with that count."""
        plate = self.normalise_plate(plate)
        window = check_window(since_ms, until_ms, self.max_days)
        reading = self._reading(user, purpose, now_ms, client, (plate_target(plate),), {"plate": plate},
                                action="data.export")
        track = self.plate_track(reading, plate, window)
        rows = len(track.payload["points"])
        self._record(reading, "data.export", track.targets, track.counts, client, track.grant_ids, {
            "plate": plate, "format": fmt, **self._window_detail(window), "counts": track.counts,
            **({"level": track.top_level.value} if track.top_level else {}),
        }, result_count=rows)  # fmt: skip
        return track.payload, rows

    def for_person(self, user: User, person_id: int, since_ms: int, until_ms: int, purpose: Purpose | None, *,
                   now_ms: int, client: str | None = None) -> dict[str, Any]:
        """The tracks of the vehicles registered to a person the reader may see; audited as ``data.track``."""
        window = check_window(since_ms, until_ms, self.max_days)
        target = f"person:{person_id}"
        reading = self._reading(user, purpose, now_ms, client, (target,), {})
        with read_only(self.engine) as conn:
            row = conn.execute(select(self.persons).where(self.persons.c.id == person_id)).first()
        if row is None:
            self._record(reading, "data.track", [target], None, client, [], {"reason": "not_found"},
                         outcome="not_found")
            raise RecordHidden(f"no person record {person_id}")
        person = self.projector.project(reading, "person", row, lineage=False)
        if person.effect is Effect.DENY:
            outcome = "hidden" if person.reason == "deny.above_hits" else "denied"
            self._record(reading, "data.track", [target], None, client, [],
                         {"reason": person.reason, "level": person.level.value}, outcome=outcome)
            if person.reason in HIDDEN_REASONS:
                raise RecordHidden(f"no person record {person_id}")
            raise RequestRefused(person.reason)
        vehicles, tracks, hidden = self._person_vehicles(reading, row, window)
        items: list[dict[str, Any]] = []
        targets = [target]
        grants = list(person.grant_ids)
        counts: Counter[str] = Counter()
        for v in vehicles:
            plate = v.values.get("plate_no") if "owner_citizen_id" in v.values else None
            track = tracks.get(plate) if plate else None
            targets.append(v.target)
            grants += v.grant_ids
            if track is None:
                items.append({"vehicle": self._vehicle_hit(v), "track": None})
                continue
            items.append({"vehicle": v.as_dict(), "track": track.payload})
        for track in tracks.values():
            targets += track.targets
            grants += track.grant_ids
            counts.update(track.counts)
        summary = {**dict(counts), "vehicles": len(vehicles), "vehicles_denied": hidden}
        self._record(reading, "data.track", targets, dict(counts), client, grants, {
            "level": person.level.value, "owner_city": person.city_code, **self._window_detail(window),
            "counts": summary, **self.records.subject_digests("person", row._mapping),
        }, outcome=person.effect.value)  # fmt: skip
        return {
            "person": {"id": person.record_id, "city_code": person.city_code, "access": person.effect.value,
                       "classification": person.level.value},
            **self._window_detail(window),
            "vehicles": items,
            "counts": summary,
        }

    # -- building -------------------------------------------------------------------------

    def _reading(self, user: User, purpose: Purpose | None, now_ms: int, client: str | None,
                 targets: tuple[str, ...], detail: dict[str, Any], action: str = "data.track") -> Reading:
        """The request's reading, or :class:`RequestRefused` (audited) when it asks without purpose or case."""
        reading = self.projector.reading(user, purpose, self.approvals.grants_for(user.id, now_ms), now_ms)
        reason = request_refusal(self.projector, reading, "sighting", self._floor)
        if reason is not None:
            self._record(reading, action, list(targets), None, client, [], {**detail, "reason": reason},
                         outcome="denied")
            raise RequestRefused(reason)
        return reading

    def plate_track(self, reading: Reading, plate: str, window: Window) -> PlateTrack:
        """Read, project and join one plate's sightings (no audit: the caller records what it returns)."""
        rows = self._track_read.rows({"plate": plate, "since": window.since_ms, "until": window.until_ms,
                                      "limit": self.max_points + 1})
        truncated = len(rows) > self.max_points
        rows = rows[: self.max_points]
        views = [(row, self._project_sighting(reading, row)) for row in rows]
        wanted = {str(v.values["device_id"]) for _, v in views
                  if v.effect is Effect.ALLOW and v.values.get("device_id")}
        places: dict[str, dict[str, Any]] = {}
        if wanted:  # only readable points are placed: a track of masked points asks nothing more
            with read_only(self.engine) as conn:
                places = self._devices(conn, reading, wanted)
        return self._assemble(plate, window, views, places, truncated)

    def _project_sighting(self, reading: Reading, row: Any) -> RecordView:
        """The sighting as the reader may see it. Only readable points use field values, so the
        fields of a masked or denied one are not decided (the record-level decision is the projector's)."""
        ref = self.projector.ref(self._sighting, row, reading)
        top = self.projector.decide_record(reading, ref)
        if top.effect is Effect.ALLOW:
            return self.projector.project(reading, "sighting", row, lineage=False, ref=ref, top=top)
        return RecordView("sighting", ref.record_id, ref.city_code, ref.level, top.effect, top.reason)

    def _devices(self, conn: Any, reading: Reading, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Checkpoints by device ID, each projected; only what the reader may see of them."""
        out: dict[str, dict[str, Any]] = {}
        wanted = sorted(ids)
        for i in range(0, len(wanted), 500):
            rows = conn.execute(self._places, {"ids": wanted[i: i + 500]}).all()
            for row in rows:  # the latest row of a device wins
                view = self.projector.project(reading, "device", row, lineage=False)
                if view.effect is Effect.ALLOW:
                    out[str(row.device_id)] = {k: view.values.get(k) for k in _DEVICE_FIELDS} | {
                        "city_code": view.city_code}
                else:
                    out.pop(str(row.device_id), None)
        return out

    def _assemble(self, plate: str, window: Window, views: Sequence[tuple[Any, RecordView]],
                  places: dict[str, dict[str, Any]], truncated: bool) -> PlateTrack:
        pt = PlateTrack(plate, window, {})
        counts: Counter[str] = Counter({"allow": 0, "mask": 0, "deny": 0})
        reasons = pt.reasons
        points: list[Point] = []
        shown: dict[int, dict[str, Any]] = {}
        asks: dict[tuple[str, Level], dict[str, Any]] = {}  # a track's masked points share a few owners
        top: Level | None = None
        allow, deny = Effect.ALLOW, Effect.DENY
        for row, view in views:
            effect = view.effect
            counts[effect.value] += 1
            if effect is deny:
                continue
            reasons[view.reason] += 1
            level = view.level
            if top is None or (level is not top and level.rank > top.rank):
                top = level
            if effect is allow and "passed_at" in view.values:
                place = places.get(str(view.values.get("device_id")), {})
                points.append(Point(view.record_id, view.city_code, int(row.passed_at), True,
                                    place.get("longitude"), place.get("latitude")))
                shown[view.record_id] = self._point(view, place, plate)
            else:
                points.append(Point(view.record_id, view.city_code, int(row.passed_at), False, None, None))
                ask = asks.get((view.city_code, level))
                if ask is None:
                    ask = asks[(view.city_code, level)] = self._ask(view.city_code, level, plate)
                shown[view.record_id] = {"id": view.record_id, "city_code": view.city_code, "access": "mask",
                                         "request_access": ask}
            for g in view.grant_ids:
                if g not in pt.grant_ids:
                    pt.grant_ids.append(g)
        pt.top_level = top
        track = build_track(points, self.rule)
        pt.shown_ids = [p.sighting_id for p in track.points]
        pt.payload = self._payload(plate, window, track, shown, counts, truncated)
        return pt

    def _point(self, view: RecordView, place: dict[str, Any], plate: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": view.record_id, "city_code": view.city_code, "access": "allow",
                               "classification": view.level.value, "passed_at": view.values["passed_at"],
                               "plate_no": view.values.get("plate_no") or plate}
        out |= {k: view.values.get(k) for k in _POINT_FIELDS}
        out |= {"device_name": place.get("name"), "road_name": place.get("road_name"),
                "longitude": place.get("longitude"), "latitude": place.get("latitude"),
                "device_city": place.get("city_code"), "grants": view.grant_ids}
        return out

    @staticmethod
    def _ask(city_code: str, level: Level, plate: str) -> dict[str, Any]:
        """How to ask for a masked point's data: the owner's grant for the plate at the point's level."""
        return {"owner_city": city_code, "level": level.value, "scope": ScopeKind.VEHICLE.value, "keys": [plate]}

    def _payload(self, plate: str, window: Window, track: Track, shown: dict[int, dict[str, Any]],
                 counts: Counter[str], truncated: bool) -> dict[str, Any]:
        pts = track.points
        entering = {c.after for c in track.crossings}
        arriving = {s.end: s for s in track.segments}
        points = []
        for i, p in enumerate(pts):
            item = shown[p.sighting_id]
            if p.readable:
                seg = arriving.get(i)
                item |= {"enters_city": i in entering, "clone_suspect": bool(seg and seg.clone_suspect),
                         "distance_km": _round(seg.distance_km, 3) if seg else None,
                         "implied_kmh": _round(seg.implied_kmh, 1) if seg else None}
            points.append(item)
        segments = [{"from_id": pts[s.start].sighting_id, "to_id": pts[s.end].sighting_id,
                     "elapsed_s": s.elapsed_s, "distance_km": _round(s.distance_km, 3),
                     "implied_kmh": _round(s.implied_kmh, 1), "clone_suspect": s.clone_suspect}
                    for s in track.segments]
        crossings = [{"from_id": pts[c.before].sighting_id, "to_id": pts[c.after].sighting_id,
                      "from_city": c.from_city, "to_city": c.to_city} for c in track.crossings]
        return {
            "plate": plate,
            **self._window_detail(window),
            "rule": {"max_kmh": self.rule.max_kmh, "tolerance_s": self.rule.tolerance_s},
            "points": points,
            "segments": segments,
            "crossings": crossings,
            "counts": {**dict(counts), "crossings": len(crossings), "clone_suspects": len(track.clone_suspects)},
            "truncated": truncated,
        }

    # -- persons --------------------------------------------------------------------------

    def _person_vehicles(self, reading: Reading, person: Row[Any], window: Window
                         ) -> tuple[list[RecordView], dict[str, PlateTrack], int]:
        """The person's vehicles the reader may see, and the tracks of those whose owner they may read."""
        # blind indexes are keyed per column: the ID is decrypted in memory (never returned) and
        # digested as the vehicle's owner field is
        citizen_id = self.projector.value("citizen_id", "citizen_id", True, person._mapping)
        if not citizen_id:
            return [], {}, 0
        digest = self.blind.digest("owner_citizen_id", str(citizen_id))
        v = self.vehicles
        with read_only(self.engine) as conn:
            rows = conn.execute(select(v).where(v.c.owner_citizen_id_bidx == digest).order_by(v.c.id)
                                .limit(MAX_VEHICLES)).all()
        views, hidden = [], 0
        tracks: dict[str, PlateTrack] = {}
        for row in rows:
            view = self.projector.project(reading, "vehicle", row, lineage=False)
            if view.effect is Effect.DENY:
                hidden += 1
                continue
            views.append(view)
            plate = view.values.get("plate_no")
            # the link person → vehicle is the owner field: followed only where the reader may read it
            if plate and "owner_citizen_id" in view.values and plate not in tracks:
                tracks[plate] = self.plate_track(reading, str(plate), window)
        return views, tracks, hidden

    def _vehicle_hit(self, view: RecordView) -> dict[str, Any]:
        """A vehicle whose owner the reader may not read: its city and a way to ask, not the plate."""
        level = effective_level(view.level, self._owner_level)
        return {"category": "vehicle", "id": view.record_id, "city_code": view.city_code, "access": "mask",
                "request_access": {"owner_city": view.city_code, "level": level.value,
                                   "scope": ScopeKind.RECORDS.value, "keys": [view.target]}}

    # -- audit ----------------------------------------------------------------------------

    def _window_detail(self, window: Window) -> dict[str, str]:
        tz = self.projector.tz
        return {"since": from_epoch_ms(window.since_ms, tz).isoformat(),
                "until": from_epoch_ms(window.until_ms, tz).isoformat()}

    def _record(self, reading: Reading, action: str, targets: list[str], counts: dict[str, int] | None,
                client: str | None, grants: list[int], detail: dict[str, Any], *, outcome: str | None = None,
                result_count: int | None = None) -> None:
        shown = (counts or {}).get("allow", 0) + (counts or {}).get("mask", 0)
        if outcome is None:
            outcome = "allow" if (counts or {}).get("allow") else "mask" if shown else "empty"
        purpose = reading.purpose
        self.audit.record(AuditEvent(
            action=action, outcome=outcome, at_ms=reading.now_ms, **reading.user.audit_fields(),
            target=tuple(dict.fromkeys(targets)), purpose=(purpose.code or None) if purpose else None,
            case_no=(purpose.case_no or None) if purpose else None, grant_id=grants[0] if grants else None,
            result_count=shown if result_count is None else result_count, client=client, detail=detail,
        ))  # fmt: skip


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


__all__ = ["MAX_VEHICLES", "REQUEST_REFUSALS", "InvalidPlate", "PlateTrack", "Trajectories", "plate_target",
           "request_refusal"]
