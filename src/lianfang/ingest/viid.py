"""GA/T 1400 (VIID) pushes: a checkpoint system's ``MotorVehicleListObject``, ingested like a file.

A push goes through exactly the path a file does — the city's ``gat1400`` mapping,
the reader's hostile-input checks, validation and quarantine, dedup, lineage, the
stored-rows hook (watch-list matching) — because its objects are written, as one
envelope, to a file the :class:`~lianfang.ingest.pipeline.Ingestor` then ingests. The
outcome of each object is read back from what ingestion recorded for that file
(quarantine entries and duplicate notes by position), so the reply states per object
what really happened:

==========================  ==========  =========================================
outcome                     StatusCode  StatusString
==========================  ==========  =========================================
stored                      0           ``OK``
already stored (duplicate)  0           ``OK: duplicate, already stored``
quarantined                 8           ``Invalid JSON Content: <reason codes>``
device of another city      4           ``Invalid Operation: …``
the file was refused        8 / 1       the refusal (the whole push)
==========================  ==========  =========================================

GA/T 1400.4 has no code for a duplicate; a re-sent pass is a success for the sender
(it must not retry it), so it is answered 0 and the string says it was a duplicate.
Re-sending the very same body is answered the same way: the file is recognised by
its SM3 and the earlier file's outcomes are reported (stored ones as duplicates).

An object whose device (the mapping's ``device_id`` source, e.g. ``TollgateID``) does
not carry the pushing city's division code is refused and not stored: a checkpoint
account pushes its own city's passes only.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from lianfang.ingest.mapping import Mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.ingest.results import BatchResult

OK, OTHER_ERROR, INVALID_OPERATION, BAD_JSON_FORMAT, BAD_JSON_CONTENT = 0, 1, 4, 7, 8
MOTOR_VEHICLES = "MotorVehicleListObject"
CONTENT_TYPE = "application/VIID+JSON;charset=UTF-8"


class PushRefused(Exception):
    """The whole push is refused: ``status`` (HTTP), ``code`` (GA/T 1400 StatusCode), a message."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class ObjectStatus:
    id: str
    code: int
    text: str
    outcome: str  # stored | duplicate | quarantined | refused | failed


def item_key(object_list: str) -> str:
    """``MotorVehicleListObject`` → ``MotorVehicleObject``."""
    return object_list.replace("ListObject", "Object")


def parse_envelope(body: bytes, object_list: str, max_objects: int) -> list[Any]:
    """The objects of ``{"<object_list>": {"<Xxx>Object": [...]}}``; refusals raise :class:`PushRefused`."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PushRefused(400, BAD_JSON_FORMAT, "Invalid JSON Format: the body is not UTF-8 JSON") from None
    inner = doc.get(object_list) if isinstance(doc, dict) else None
    items = inner.get(item_key(object_list)) if isinstance(inner, dict) else None
    if not isinstance(items, list):
        shape = f'{{"{object_list}": {{"{item_key(object_list)}": [...]}}}}'
        raise PushRefused(400, BAD_JSON_CONTENT, f"Invalid JSON Content: expected {shape}")
    if not items:
        raise PushRefused(400, BAD_JSON_CONTENT, "Invalid JSON Content: no objects")
    if len(items) > max_objects:
        raise PushRefused(413, BAD_JSON_CONTENT, f"Invalid JSON Content: at most {max_objects} objects per push")
    return items


def push_mappings(mappings: list[Mapping], city: str, object_list: str = MOTOR_VEHICLES) -> list[Mapping]:
    """The city's mappings that read this GA/T 1400 collection into one feed."""
    return [
        m for m in mappings
        if m.city == city and len(m.feeds) == 1 and m.feeds[0].reader.format == "gat1400"
        and m.feeds[0].reader.object_list == object_list
    ]  # fmt: skip


def _object_id(obj: Any, id_field: str | None) -> str:
    if not isinstance(obj, dict) or not id_field:
        return ""
    value = obj.get(id_field)
    return str(value)[:64] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _foreign_device(obj: Any, sources: tuple[str, ...], city: str) -> str | None:
    """The device ID when it carries another city's division code (a 20-digit GA/T 1400 ID starts with it)."""
    if not isinstance(obj, dict):
        return None
    for column in sources:
        value = obj.get(column)
        if isinstance(value, str) and len(value) >= 6 and value[:6].isdigit():
            return value if value[:4] != city[:4] else None
    return None


def push(ing: Ingestor, mapping: Mapping, objects: list[Any], *, city: str, folder: Path,
         object_list: str = MOTOR_VEHICLES) -> tuple[BatchResult | None, list[ObjectStatus]]:
    """Ingest one push's objects with ``mapping``; (the batch, or None when nothing was ingested; per-object status)."""
    feed = mapping.feeds[0]
    device_sources = next((r.sources for r in feed.rules if r.target == "device_id"), ())
    statuses: list[ObjectStatus | None] = [None] * len(objects)
    kept: list[int] = []
    for i, obj in enumerate(objects):
        foreign = _foreign_device(obj, device_sources, city)
        if foreign is not None:
            statuses[i] = ObjectStatus(_object_id(obj, feed.source_id), INVALID_OPERATION,
                                       f"Invalid Operation: device {foreign} is not in city {city}", "refused")
        else:
            kept.append(i)
    result: BatchResult | None = None
    if kept:
        result, outcomes = _ingest(ing, mapping, [objects[i] for i in kept], folder, object_list)
        for position, i in enumerate(kept, start=1):
            code, text, outcome = outcomes[position]
            statuses[i] = ObjectStatus(_object_id(objects[i], feed.source_id), code, text, outcome)
    return result, [s for s in statuses if s is not None]


def _ingest(ing: Ingestor, mapping: Mapping, objects: list[Any], folder: Path, object_list: str
            ) -> tuple[BatchResult, dict[int, tuple[int, str, str]]]:
    folder = folder / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        path = folder / f"{item_key(object_list).removesuffix('Object')}s_push.json"
        body = json.dumps({object_list: {item_key(object_list): objects}}, ensure_ascii=False)
        path.write_text(body, encoding="utf-8")
        result = ing.ingest([path], mapping=mapping, origin="viid")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    fr = result.files[0]
    n = len(objects)
    if fr.status not in ("done", "skipped") or fr.file_id is None:
        code = BAD_JSON_CONTENT if fr.status == "refused" else OTHER_ERROR
        text = f"{'Invalid JSON Content' if code == BAD_JSON_CONTENT else 'Other Error'}: {fr.reason or fr.status}"
        return result, {p: (code, text, "failed") for p in range(1, n + 1)}
    quarantined, duplicates = _recorded(ing, fr.file_id)
    again = fr.status == "skipped"  # the same body was pushed before: report that file's outcomes
    out: dict[int, tuple[int, str, str]] = {}
    for p in range(1, n + 1):
        if p in quarantined:
            out[p] = (BAD_JSON_CONTENT, f"Invalid JSON Content: {quarantined[p]}", "quarantined")
        elif p in duplicates or again:
            out[p] = (OK, "OK: duplicate, already stored", "duplicate")
        else:
            out[p] = (OK, "OK", "stored")
    return result, out


def _recorded(ing: Ingestor, file_id: int) -> tuple[dict[int, str], set[int]]:
    """(position → quarantine reason codes, duplicate positions) of one ingested file."""
    q, d = ing.table("quarantine"), ing.table("ingest_duplicate")
    with ing.engine.connect() as conn:
        quarantined = {int(p): str(codes) for p, codes in conn.execute(
            select(q.c.position, q.c.reason_codes).where(q.c.file_id == file_id))}
        duplicates = {int(p) for (p,) in conn.execute(select(d.c.position).where(d.c.file_id == file_id))}
    return quarantined, duplicates


def reply(statuses: list[ObjectStatus], request_url: str, tz: ZoneInfo, now: datetime | None = None
          ) -> dict[str, Any]:
    """The ``ResponseStatusListObject`` answering a push, one status per object."""
    local = (now or datetime.now(tz)).astimezone(tz).strftime("%Y%m%d%H%M%S")
    return {"ResponseStatusListObject": {"ResponseStatusObject": [
        {"Id": s.id, "RequestURL": request_url, "StatusCode": s.code, "StatusString": s.text, "LocalTime": local}
        for s in statuses
    ]}}  # fmt: skip


__all__ = [
    "BAD_JSON_CONTENT",
    "BAD_JSON_FORMAT",
    "CONTENT_TYPE",
    "INVALID_OPERATION",
    "MOTOR_VEHICLES",
    "OK",
    "OTHER_ERROR",
    "ObjectStatus",
    "PushRefused",
    "item_key",
    "parse_envelope",
    "push",
    "push_mappings",
    "reply",
]
