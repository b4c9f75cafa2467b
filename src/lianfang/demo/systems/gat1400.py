"""``gat1400``: plate sightings as the GA/T 1400 (VIID) platform pushes them.

One ``{"MotorVehicleListObject":{"MotorVehicleObject":[...]}}`` envelope per line, at
most 1,000 objects each, with the standard's own field names and codes (PlateClass
GA 24.7, colours from the GA/T 1400 table, PassTime ``yyyyMMddHHmmss``). A
re-sent pass keeps every field but gets a new MotorVehicleID: a near duplicate.
"""

from __future__ import annotations

from typing import Any

from lianfang.demo.systems.base import Codec, Column, Const, DateTimeCodec, Layout, System
from lianfang.demo.systems.codecs import CopyOf
from lianfang.demo.timefmt import COMPACT

ENVELOPE_SIZE = 1000


class SourceIdCodec(Codec):
    """SourceID (41 digits: device + ``02`` + PassTime + serial) or, with ``vehicle_id``,
    the MotorVehicleID (48 digits: SourceID + ``02`` + serial). The serial spreads the
    record's ``_src`` over both 5-digit slots, so IDs are unique per device and second."""

    whole = True
    reads = frozenset({"_src", "device_id", "passed_at"})
    _last: tuple[Any, str] = (None, "")  # shared: the MotorVehicleID column reuses the SourceID

    def __init__(self, vehicle_id: bool) -> None:
        self.vehicle_id = vehicle_id

    def convert(self, value: Any) -> Any:
        rec = value
        src = rec["_src"]
        last_rec, source = SourceIdCodec._last
        if last_rec is not rec:
            source = f"{rec['device_id']}02{COMPACT.render(rec['passed_at'])}{src // 100_000 % 100_000:05d}"
            SourceIdCodec._last = (rec, source)
        return f"{source}02{src % 100_000:05d}" if self.vehicle_id else source


SYSTEM = System(
    key="gat1400", vendor="viid", format="gat1400", extension="jsonl",
    source={"format": "gat1400", "encoding": "utf-8", "object_list": "MotorVehicleListObject"},
    formats=("%Y%m%d%H%M%S",),
    layouts={
        "sighting": Layout("sighting", "MotorVehicles", (
            Column("MotorVehicleID", "_", SourceIdCodec(vehicle_id=True)),
            Column("InfoKind", "_", Const(1)),
            Column("SourceID", "_", SourceIdCodec(vehicle_id=False)),
            Column("TollgateID", "device_id"),
            Column("DeviceID", "_", CopyOf("device_id")),
            Column("LaneNo", "lane_no"),
            Column("PlateClass", "plate_type"),
            Column("PlateColor", "plate_color"),
            Column("PlateNo", "plate_no"),
            Column("Speed", "speed_kmh"),
            Column("Direction", "direction"),
            Column("VehicleClass", "_", Const("K33")),
            Column("VehicleColor", "vehicle_color"),
            Column("PassTime", "passed_at", DateTimeCodec(COMPACT))),
            consts={"kind": "vehicle"}, source_id="MotorVehicleID"),
    },
)
