"""Map layers: the checkpoints (rec_device) as GeoJSON points, each one through the policy.

Devices are records like any other: each row is projected for the reader, and only
those readable in full with a place become features (masked and denied devices
are counted, never drawn). One audit event per call (``data.layer``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Engine, MetaData, select

from lianfang.access.approvals import Approvals
from lianfang.access.projection import Projector
from lianfang.access.records import RequestRefused
from lianfang.audit import Audit, AuditEvent
from lianfang.identity.directory import User
from lianfang.policy.decision import Effect, Purpose, effective_level
from lianfang.store.engine import read_only
from lianfang.track.service import request_refusal

_PROPERTIES = ("device_id", "name", "device_kind", "road_name", "division_code")


class MapLayers:
    def __init__(self, engine: Engine, metadata: MetaData, projector: Projector, approvals: Approvals, audit: Audit):
        self.engine = engine
        self.projector = projector
        self.approvals = approvals
        self.audit = audit
        self.devices = metadata.tables["rec_device"]
        cat = projector.standard.category("device")
        self._level = effective_level(cat.default_level, projector.policy.floor("device"))

    def checkpoints(self, user: User, purpose: Purpose | None, *, now_ms: int, client: str | None = None
                    ) -> dict[str, Any]:
        """A FeatureCollection of the devices the reader may see, with their place."""
        reading = self.projector.reading(user, purpose, self.approvals.grants_for(user.id, now_ms), now_ms)
        reason = request_refusal(self.projector, reading, "device", self._level)
        if reason is not None:
            self._record(user, purpose, now_ms, client, "denied", 0, {"reason": reason})
            raise RequestRefused(reason)
        d = self.devices
        latest: dict[str, Any] = {}
        with read_only(self.engine) as conn:
            for row in conn.execute(select(d).order_by(d.c.id)):
                latest[str(row.device_id)] = row  # the latest row of a device wins
        counts: Counter[str] = Counter({"allow": 0, "mask": 0, "deny": 0})
        features = []
        for device_id in sorted(latest):
            view = self.projector.project(reading, "device", latest[device_id], lineage=False)
            counts[view.effect.value] += 1
            lon, lat = view.values.get("longitude"), view.values.get("latitude")
            if view.effect is not Effect.ALLOW or lon is None or lat is None:
                continue
            props = {k: view.values.get(k) for k in _PROPERTIES} | {"city_code": view.city_code}
            features.append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": [lon, lat]}})
        self._record(user, purpose, now_ms, client, "allow" if features else "empty", len(features),
                     {"layer": "devices", "counts": dict(counts)})
        return {"type": "FeatureCollection", "features": features, "counts": dict(counts)}

    def _record(self, user: User, purpose: Purpose | None, now_ms: int, client: str | None, outcome: str, n: int,
                detail: dict[str, Any]) -> None:
        self.audit.record(AuditEvent(
            action="data.layer", outcome=outcome, at_ms=now_ms, **user.audit_fields(), target=("layer:devices",),
            purpose=(purpose.code or None) if purpose else None,
            case_no=(purpose.case_no or None) if purpose else None, result_count=n, client=client, detail=detail,
        ))  # fmt: skip


__all__ = ["MapLayers"]
