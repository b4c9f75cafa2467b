"""Quarantine: list, show and re-process rejected records.

A steward fixes a mapping (new version) or a value (``--set FIELD=VALUE`` on the
source field) and retries; a record that now passes is stored with its original
lineage (file and position) and the quarantine entry is marked resolved. File
counters move with it, so accepted + quarantined + duplicates = read still holds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from lianfang.crypto import sm3_digest
from lianfang.ingest.chunks import now_ms
from lianfang.ingest.mapping import Feed, Mapping, MappingError, parse_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.ingest.transform import Transformer
from lianfang.policy.masking import mask_value
from lianfang.standard.yamltext import load_yaml
from lianfang.store.mapping_registry import register_mapping, stored_mapping_text
from lianfang.store.schema import record_table_name


@dataclass
class QuarantineItem:
    id: int
    file_id: int
    file_name: str
    position: int
    locator: str
    category: str
    city_code: str
    mapping: str
    reasons: list[dict[str, Any]]
    status: str
    retries: int
    created_at: int
    resolved_with: str | None = None
    corrected_fields: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RetryOutcome:
    retried: int = 0
    resolved: int = 0
    duplicates: int = 0
    still_rejected: int = 0


def _item(row: Any) -> QuarantineItem:
    return QuarantineItem(
        id=int(row.id),
        file_id=int(row.file_id),
        file_name=row.name,
        position=int(row.position),
        locator=row.locator,
        category=row.category,
        city_code=row.city_code,
        mapping=f"{row.mapping_id}@v{row.mapping_version}",
        reasons=json.loads(row.reasons),
        status=row.status,
        retries=int(row.retries),
        created_at=int(row.created_at),
        resolved_with=row.resolved_with,
        corrected_fields=row.corrected_fields,
    )


def list_items(
    ing: Ingestor,
    *,
    status: str | None = "open",
    reason: str | None = None,
    category: str | None = None,
    city: str | None = None,
    file_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[QuarantineItem]]:
    q, f = ing.table("quarantine"), ing.table("ingest_file")
    cond = []
    if status:
        cond.append(q.c.status == status)
    if reason:
        cond.append(q.c.reason_codes.contains(reason))
    if category:
        cond.append(q.c.category == category)
    if city:
        cond.append(q.c.city_code == city)
    if file_id is not None:
        cond.append(q.c.file_id == file_id)
    base = select(q, f.c.name, f.c.mapping_id, f.c.mapping_version).join(f, f.c.id == q.c.file_id).where(*cond)
    with ing.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(q).where(*cond)).scalar_one()
        rows = conn.execute(base.order_by(q.c.id).limit(limit).offset(offset)).all()
    return int(total), [_item(r) for r in rows]


def get_item(ing: Ingestor, item_id: int) -> tuple[QuarantineItem, dict[str, str | None], bytes] | None:
    """The entry, its parsed source fields and its raw bytes (decrypted: callers mask)."""
    q, f = ing.table("quarantine"), ing.table("ingest_file")
    with ing.engine.connect() as conn:
        row = conn.execute(
            select(q, f.c.name, f.c.mapping_id, f.c.mapping_version)
            .join(f, f.c.id == q.c.file_id)
            .where(q.c.id == item_id)
        ).first()
    if row is None:
        return None
    fields = json.loads(ing.cipher.decrypt("quarantine.fields", bytes(row.fields_enc)))
    raw = base64.b64decode(ing.cipher.decrypt("quarantine.raw", bytes(row.raw_enc)))
    return _item(row), fields, raw


def _feed(ing: Ingestor, mapping_id: str, category: str, file_name: str) -> tuple[Mapping, Feed]:
    """The feed to re-run with: a loaded mapping of that id (it may be a corrected, newer
    version), else the newest version in the store's mapping registry."""
    candidates = [m for m in ing.mappings if m.id == mapping_id]
    if not candidates:
        text = stored_mapping_text(ing.engine, ing.table("source_mapping"), mapping_id)
        if text is not None:
            candidates = [parse_mapping(load_yaml(text), ing.standard, origin="registry", text=text)]
    for m in candidates:
        feeds = [fd for fd in m.feeds if fd.category == category]
        named = [fd for fd in feeds if fd.matches(Path(file_name))]
        if named or feeds:
            return m, (named or feeds)[0]
    raise MappingError(f"mapping {mapping_id!r} is neither loaded nor registered; pass its file with --mapping")


def masked_fields(ing: Ingestor, item: QuarantineItem, fields: dict[str, str | None]) -> dict[str, str | None]:
    """Source fields for display: values feeding a personal standard field are masked.

    A column the mapping does not know is masked too (fail closed): it may hold anything.
    """
    mapping_id = item.mapping.rsplit("@", 1)[0]
    kinds: dict[str, str] = {}
    try:
        _, feed = _feed(ing, mapping_id, item.category, item.file_name)
        category = ing.standard.category(item.category)
        for rule in feed.rules:
            fld = category.fields[rule.target]
            for column in rule.sources:
                kinds[column] = fld.type if fld.personal else kinds.get(column, "")
    except MappingError:
        pass
    shown: dict[str, str | None] = {}
    for column, value in fields.items():
        kind = kinds.get(column)
        shown[column] = value if value is None or kind == "" else mask_value(kind or "text", value)
    return shown


def retry(ing: Ingestor, ids: Sequence[int], *, overrides: dict[str, str] | None = None) -> RetryOutcome:
    """Re-run open quarantine entries through the current mappings."""
    out = RetryOutcome()
    q, files = ing.table("quarantine"), ing.table("ingest_file")
    # entries of one file share its row, mapping and compiled transformer: look them up once
    per_file: dict[int, tuple[Any, Mapping, Transformer]] = {}
    for item_id in ids:
        found = get_item(ing, item_id)
        if found is None or found[0].status != "open":
            continue
        item, fields, raw = found
        if item.file_id not in per_file:
            with ing.engine.connect() as conn:
                frow = conn.execute(select(files).where(files.c.id == item.file_id)).mappings().one()
            mapping, feed = _feed(ing, frow["mapping_id"], item.category, frow["name"])
            per_file[item.file_id] = (frow, mapping, Transformer(feed, ing.standard, tz=ing.tz, now=ing.now))
        frow, mapping, transform = per_file[item.file_id]
        fields = {**fields, **(overrides or {})}
        out.retried += 1
        values, problems = transform(fields)
        stamp = now_ms()
        with ing.engine.begin() as conn:
            if problems:
                out.still_rejected += 1
                conn.execute(
                    update(q)
                    .where(q.c.id == item.id)
                    .values(
                        retries=q.c.retries + 1,
                        reasons=json.dumps([p.as_dict() for p in problems], ensure_ascii=False),
                        reason_codes=",".join(sorted({p.code for p in problems}))[:400],
                    )
                )
                continue
            codec = ing.codec(item.category)
            key = codec.dedup_key(values)
            table = ing.table(record_table_name(item.category))
            existing = conn.execute(select(table.c.id).where(table.c.dedup_key == key)).scalar()
            counters: dict[str, Any] = {"quarantined": files.c.quarantined - 1}
            if existing is None:
                row = dict(zip(codec.columns, codec.encode([values])[0], strict=True))
                row.update(
                    dedup_key=key,
                    classification=codec.category.default_level.value,
                    file_id=item.file_id,
                    batch_id=frow["batch_id"],
                    position=item.position,
                    raw_hash=sm3_digest(raw),
                    ingested_at=stamp,
                    source_record_id=None,
                )
                record_id = conn.execute(insert(table).values(**row)).inserted_primary_key[0]  # type: ignore[index]
                if ing.on_stored is not None:
                    ing.on_stored(conn, item.category, tuple(row), [list(row.values())])
                counters["accepted"] = files.c.accepted + 1
                out.resolved += 1
            else:
                record_id = existing
                counters["duplicates"] = files.c.duplicates + 1
                out.duplicates += 1
            conn.execute(
                update(q)
                .where(q.c.id == item.id)
                .values(
                    status="resolved",
                    resolved_at=stamp,
                    record_id=int(record_id),
                    retries=q.c.retries + 1,
                    # lineage of a repaired record: which mapping version and which corrected
                    # source columns (names only) turned it into a stored record
                    resolved_with=mapping.ref,
                    corrected_fields=",".join(sorted(overrides or {}))[:400] or None,
                )
            )
            register_mapping(
                conn, ing.table("source_mapping"), mapping_id=mapping.id, version=mapping.version, text=mapping.text
            )
            conn.execute(update(files).where(files.c.id == item.file_id).values(**counters))
    return out
