"""Pushing files for ingestion and reading batch status."""

from __future__ import annotations

import re
import shutil
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from sqlalchemy import func, select

from lianfang.api.deps import IngestorDep, PageDep, PlatformDep
from lianfang.api.security import Steward, StewardOrAdmin, record, steward_city
from lianfang.api.timefmt import localise

router = APIRouter(tags=["ingestion"])

_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def safe_upload_name(name: str | None) -> str:
    """Keep only the last path component and harmless characters (no path tricks)."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    base = _SAFE_NAME.sub("_", base).lstrip(".")
    return base[:120] or "upload"


@router.post("/ingest")
def push(
    request: Request,
    who: Steward,
    plat: PlatformDep,
    ing: IngestorDep,
    files: Annotated[list[UploadFile], File()],
    mapping: Annotated[str, Form(description="Id of a loaded mapping, e.g. demo.binjiang.bj-zhxt")],
) -> dict[str, Any]:
    """Ingest pushed files with a named mapping; answers the batch summary."""
    chosen = next((m for m in plat.mappings if m.id == mapping), None)
    if chosen is None:
        raise HTTPException(422, f"unknown mapping {mapping!r}")
    home = steward_city(who)
    if home is not None and chosen.city != home:
        raise HTTPException(403, f"mapping {mapping!r} feeds city {chosen.city}; you steward {home}")
    limit = plat.settings.max_file_bytes
    folder = plat.settings.var_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        saved = []
        for upload in files:
            target = folder / safe_upload_name(upload.filename)
            with target.open("wb") as out:
                copied = 0
                while chunk := upload.file.read(1 << 20):
                    copied += len(chunk)
                    if copied > limit:
                        raise HTTPException(413, f"{target.name}: larger than {limit} bytes")
                    out.write(chunk)
            saved.append(target)
        result = ing.ingest(saved, mapping=chosen, origin="api")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    record(request, who, "ingest.push", "ok" if result.ok else "failed", (f"batch:{result.batch_id}",),
           result_count=result.total("accepted"), mapping=chosen.ref, files=len(result.files),
           read=result.total("read"), quarantined=result.total("quarantined"), duplicates=result.total("duplicates"))
    return result.as_dict()


@router.get("/batches")
def batches(who: StewardOrAdmin, plat: PlatformDep, ing: IngestorDep, page: PageDep) -> dict[str, Any]:
    """Ingestion batches, newest first; a run that died reads ``interrupted`` (see ``Ingestor.reconcile_batches``)."""
    ing.reconcile_batches()
    t = ing.table("ingest_batch")
    with ing.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t)).scalar_one()
        rows = conn.execute(
            select(t).order_by(t.c.id.desc()).limit(page.limit).offset(page.offset)
        ).mappings()
        items = [localise(dict(r), plat.tz) for r in rows]
    return {"total": total, "limit": page.limit, "offset": page.offset, "items": items}


@router.get("/batches/{batch_id}")
def batch(batch_id: int, who: StewardOrAdmin, plat: PlatformDep, ing: IngestorDep) -> dict[str, Any]:
    """One batch with its files and their counts; a run that died reads ``interrupted``."""
    ing.reconcile_batches()
    b, f = ing.table("ingest_batch"), ing.table("ingest_file")
    with ing.engine.connect() as conn:
        row = conn.execute(select(b).where(b.c.id == batch_id)).mappings().first()
        if row is None:
            raise HTTPException(404, f"no batch {batch_id}")
        files = [
            dict(r)
            for r in conn.execute(
                select(
                    f.c.id,
                    f.c.name,
                    f.c.category,
                    f.c.city_code,
                    f.c.mapping_id,
                    f.c.mapping_version,
                    f.c.status,
                    f.c.records_read,
                    f.c.accepted,
                    f.c.quarantined,
                    f.c.duplicates,
                    f.c.error,
                )
                .where(f.c.batch_id == batch_id)
                .order_by(f.c.id)
            ).mappings()
        ]
    return {**localise(dict(row), plat.tz), "files": files}
