"""Reading the ingestion history: batches, newest first, and one batch with its files.

One implementation for ``GET /api/v1/batches`` and ``lianfang batches``. Both first
reconcile (:meth:`~lianfang.ingest.pipeline.Ingestor.reconcile_batches`), so a run
that died reads ``interrupted`` and its files ``failed`` — ready to resume by
ingesting the same files again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from lianfang.ingest.pipeline import Ingestor
from lianfang.store.engine import read_only

#: the columns of a file shown with its batch (no lease bookkeeping)
FILE_COLUMNS = ("id", "name", "category", "city_code", "mapping_id", "mapping_version", "status", "checkpoint",
                "records_read", "accepted", "quarantined", "duplicates", "error", "started_at", "finished_at")


def list_batches(ing: Ingestor, *, limit: int, offset: int = 0, status: str | None = None
                 ) -> tuple[int, list[dict[str, Any]]]:
    """``(total, batches)``: one page of batches, newest first, optionally of one ``status``."""
    ing.reconcile_batches()
    t = ing.table("ingest_batch")
    where = [t.c.status == status] if status else []
    with read_only(ing.engine) as conn:
        total = int(conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one())
        rows = conn.execute(select(t).where(*where).order_by(t.c.id.desc()).limit(limit).offset(offset)).mappings()
        return total, [dict(r) for r in rows]


def get_batch(ing: Ingestor, batch_id: int) -> dict[str, Any] | None:
    """One batch with ``files`` (in the order they were taken), or None."""
    ing.reconcile_batches()
    b, f = ing.table("ingest_batch"), ing.table("ingest_file")
    with read_only(ing.engine) as conn:
        row = conn.execute(select(b).where(b.c.id == batch_id)).mappings().first()
        if row is None:
            return None
        files = conn.execute(
            select(*(f.c[name] for name in FILE_COLUMNS)).where(f.c.batch_id == batch_id).order_by(f.c.id)
        ).mappings()
        return {**dict(row), "files": [dict(r) for r in files]}


__all__ = ["FILE_COLUMNS", "get_batch", "list_batches"]
