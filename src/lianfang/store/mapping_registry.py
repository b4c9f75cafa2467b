"""The mapping registry: every mapping version used for ingestion, kept as written.

Lineage names a mapping id and version; the registry keeps the exact YAML behind
them, so a record's transformation can be reproduced and a quarantine retry
works even when the mapping file is no longer at hand.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import Connection, Engine, Table, insert, select


def register_mapping(conn: Connection, table: Table, *, mapping_id: str, version: int, text: str) -> None:
    """Record this mapping version's text once (same id, version and content)."""
    if not text:
        return
    sha = hashlib.sha256(text.encode()).hexdigest()
    exists = conn.execute(
        select(table.c.id).where(
            table.c.mapping_id == mapping_id, table.c.version == version, table.c.sha == sha
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(table).values(
                mapping_id=mapping_id,
                version=version,
                sha=sha,
                content=text,
                first_used_at=int(time.time() * 1000),
            )
        )


def stored_mapping_text(engine: Engine, table: Table, mapping_id: str) -> str | None:
    """The newest registered text of a mapping (highest version, then latest use)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(table.c.content)
            .where(table.c.mapping_id == mapping_id)
            .order_by(table.c.version.desc(), table.c.first_used_at.desc())
            .limit(1)
        ).first()
    return None if row is None else str(row[0])
