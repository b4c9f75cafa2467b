"""``en-jsonl``: JSON lines with English camelCase keys and English code words.

gender M/F, ``dob`` ISO dates, times ISO 8601 with ``+08:00``, mobiles ``+86 138 1234 5678``,
plates lower case with a hyphen (``赣a-12345``); sightings mix cars and faces.
"""

from __future__ import annotations

from lianfang.demo.systems.base import Code, Column, DateCodec, DateTimeCodec, Layout, System
from lianfang.demo.systems.codecs import PhoneCodec, PlateCodec
from lianfang.demo.systems.spellings import (
    EN_ALERT,
    EN_CASE,
    EN_CASE_STATUS,
    EN_COLOUR,
    EN_DIRECTION,
    EN_ETHNIC,
    EN_HELP,
    EN_HELP_STATUS,
    EN_PLATE_TYPE,
    EN_SEVERITY,
    EN_SEX,
    EN_TAG,
)
from lianfang.demo.timefmt import DATE_ISO, ISO_OFFSET

_TIME = DateTimeCodec(ISO_OFFSET)
_PHONE = PhoneCodec("intl")
_PLATE = PlateCodec("lower_hyphen")
_PLATE_TYPE = Code("plate_type", EN_PLATE_TYPE)
_COLOUR = Code("color", EN_COLOUR, aliases={"gray": "3", "silver": "3"})

SYSTEM = System(
    key="en-jsonl", vendor="zhjw", format="jsonl", extension="jsonl",
    source={"format": "jsonl", "encoding": "utf-8"},
    layouts={
        "person": Layout("person", "persons", (
            Column("personId", "_src"), Column("idNumber", "citizen_id"), Column("fullName", "name"),
            Column("gender", "sex", Code("sex", EN_SEX)),
            Column("ethnicity", "ethnicity", Code("ethnicity", EN_ETHNIC)),
            Column("dob", "birth_date", DateCodec(DATE_ISO)), Column("mobile", "phone", _PHONE),
            Column("registeredAddress", "household_address"), Column("currentAddress", "current_address"),
            Column("category", "person_tag", Code("person_tag", EN_TAG))), source_id="personId"),
        "vehicle": Layout("vehicle", "vehicles", (
            Column("plate", "plate_no", _PLATE), Column("plateType", "plate_type", _PLATE_TYPE),
            Column("plateColor", "plate_color", _COLOUR), Column("color", "vehicle_color", _COLOUR),
            Column("model", "brand"), Column("ownerId", "owner_citizen_id"),
            Column("ownerName", "owner_name"), Column("ownerMobile", "owner_phone", _PHONE))),
        "case": Layout("case", "cases", (
            Column("caseNumber", "case_no"), Column("type", "category", Code("case_category", EN_CASE)),
            Column("title", "title"), Column("summary", "summary"),
            Column("occurredAt", "occurred_at", _TIME), Column("reportedAt", "reported_at", _TIME),
            Column("status", "status", Code("case_status", EN_CASE_STATUS)),
            Column("division", "division_code"), Column("address", "address"),
            Column("lng", "longitude"), Column("lat", "latitude"), Column("loss", "loss_amount"),
            Column("suspectId", "suspect_citizen_id"), Column("suspectPlate", "suspect_plate_no", _PLATE),
            Column("unit", "unit_code")), source_id="caseNumber"),
        "alert": Layout("alert", "alerts", (
            Column("alertId", "alert_no"), Column("type", "alert_type", Code("alert_type", EN_ALERT)),
            Column("level", "severity", Code("alert_severity", EN_SEVERITY)), Column("title", "title"),
            Column("content", "content"), Column("issuedAt", "issued_at", _TIME),
            Column("validUntil", "valid_until", _TIME), Column("plate", "target_plate_no", _PLATE),
            Column("subjectIdNumber", "target_citizen_id"), Column("unit", "unit_code"))),
        "help_request": Layout("help_request", "help_requests", (
            Column("ticket", "request_no"), Column("category", "category", Code("help_category", EN_HELP)),
            Column("receivedAt", "received_at", _TIME), Column("callerName", "caller_name"),
            Column("callerMobile", "caller_phone", _PHONE), Column("address", "address"),
            Column("lng", "longitude"), Column("lat", "latitude"), Column("description", "summary"),
            Column("status", "status", Code("help_status", EN_HELP_STATUS)), Column("unit", "unit_code"))),
        "sighting": Layout("sighting", "sightings", (
            Column("captureId", "_src"),
            Column("captureType", "kind", Code("kind", {"vehicle": "car", "face": "face"})),
            Column("deviceId", "device_id"), Column("capturedAt", "passed_at", _TIME),
            Column("plate", "plate_no", _PLATE), Column("plateType", "plate_type", _PLATE_TYPE),
            Column("plateColor", "plate_color", _COLOUR), Column("vehicleColor", "vehicle_color", _COLOUR),
            Column("speed", "speed_kmh"), Column("heading", "direction", Code("direction", EN_DIRECTION)),
            Column("lane", "lane_no"), Column("faceId", "face_id"),
            Column("matchedIdNumber", "matched_citizen_id")), source_id="captureId"),
    },
)
