"""``xml``: ``<Records><Record seq=".." op="I">`` with one child per field.

Times ``YYYY-MM-DDTHH:MM:SS`` (no offset), codes written without leading zeros
(民族 ``1``, 号牌种类 ``2``), the vendor's own colour table (0 白, 1 黄, 2 蓝, 3 黑 …) and
plates split into a province child and a number child. Captures mix cars and faces.
"""

from __future__ import annotations

from lianfang.demo.systems.base import Code, Column, Const, DateCodec, DateTimeCodec, Layout, System
from lianfang.demo.systems.codecs import PlateCodec
from lianfang.demo.systems.spellings import NO_ZERO, XML_COLOUR
from lianfang.demo.timefmt import DATE_ISO, ISO_LOCAL

_TIME = DateTimeCodec(ISO_LOCAL)
_COLOUR = Code("color", XML_COLOUR, fallback="9")
_PLATE_TYPE = Code("plate_type", {k: NO_ZERO[k] for k in ("01", "02", "15", "16", "23", "51", "52", "99")})
_SEQ = Column("@seq", "_src")
_OP = Column("@op", "_", Const("I"))


def _plate(field: str, prefix: str = "Plate") -> tuple[Column, Column]:
    return (Column(f"{prefix}Province", field, PlateCodec("province")),
            Column(f"{prefix}Number", field, PlateCodec("number")))


SYSTEM = System(
    key="xml", vendor="sjjh", format="xml", extension="xml",
    source={"format": "xml", "encoding": "utf-8", "record_tag": "Record"},
    formats=("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"),
    layouts={
        "person": Layout("person", "Persons", (
            _SEQ, _OP, Column("IdCardNo", "citizen_id"), Column("PersonName", "name"),
            Column("Gender", "sex"),
            Column("Nation", "ethnicity", Code("nation", {k: NO_ZERO[k] for k in (
                "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
                "97", "98")})),
            Column("BirthDay", "birth_date", DateCodec(DATE_ISO)), Column("Phone", "phone"),
            Column("DomicileAddress", "household_address"), Column("ResidenceAddress", "current_address"),
            Column("PersonType", "person_tag")), source_id="@seq"),
        "vehicle": Layout("vehicle", "Vehicles", (
            _SEQ, _OP, *_plate("plate_no"), Column("PlateType", "plate_type", _PLATE_TYPE),
            Column("PlateColor", "plate_color", _COLOUR), Column("BodyColor", "vehicle_color", _COLOUR),
            Column("Model", "brand"), Column("OwnerName", "owner_name"),
            Column("OwnerIdCardNo", "owner_citizen_id"), Column("OwnerPhone", "owner_phone")),
            source_id="@seq"),
        "case": Layout("case", "Cases", (
            _SEQ, _OP, Column("CaseNo", "case_no"), Column("CaseType", "category"),
            Column("CaseName", "title"), Column("Brief", "summary"), Column("OccurTime", "occurred_at", _TIME),
            Column("ReportTime", "reported_at", _TIME), Column("CaseState", "status"),
            Column("AreaCode", "division_code"), Column("Place", "address"), Column("Longitude", "longitude"),
            Column("Latitude", "latitude"), Column("LossAmount", "loss_amount"),
            Column("SuspectIdCardNo", "suspect_citizen_id"), *_plate("suspect_plate_no", "Suspect"),
            Column("OrgCode", "unit_code")), source_id="@seq"),
        "alert": Layout("alert", "Alerts", (
            _SEQ, _OP, Column("AlertNo", "alert_no"), Column("AlertType", "alert_type"),
            Column("AlertLevel", "severity"), Column("Title", "title"), Column("Content", "content"),
            Column("PublishTime", "issued_at", _TIME), Column("ExpireTime", "valid_until", _TIME),
            *_plate("target_plate_no", "Target"), Column("IdCardNo", "target_citizen_id"),
            Column("OrgCode", "unit_code")), source_id="@seq"),
        "help_request": Layout("help_request", "HelpRequests", (
            _SEQ, _OP, Column("CallNo", "request_no"), Column("CallType", "category"),
            Column("CallTime", "received_at", _TIME), Column("CallerName", "caller_name"),
            Column("CallerPhone", "caller_phone"), Column("Place", "address"),
            Column("Longitude", "longitude"), Column("Latitude", "latitude"), Column("Content", "summary"),
            Column("HandleState", "status"), Column("OrgCode", "unit_code")), source_id="@seq"),
        "sighting": Layout("sighting", "Captures", (
            _SEQ, _OP,
            Column("CaptureType", "kind", Code("capture_type", {"vehicle": "1", "face": "2"})),
            Column("DeviceNo", "device_id"), Column("CaptureTime", "passed_at", _TIME),
            *_plate("plate_no"), Column("PlateType", "plate_type", _PLATE_TYPE),
            Column("PlateColor", "plate_color", _COLOUR), Column("BodyColor", "vehicle_color", _COLOUR),
            Column("Speed", "speed_kmh"), Column("Direction", "direction"), Column("Lane", "lane_no"),
            Column("FaceNo", "face_id"), Column("MatchIdCardNo", "matched_citizen_id")),
            source_id="@seq"),
    },
)
