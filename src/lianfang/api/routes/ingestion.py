"""Pushing files for ingestion and reading batch status."""

from __future__ import annotations

import re
import shutil
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile

from lianfang.api.deps import IdPath, IngestorDep, PageDep, PlatformDep
from lianfang.api.security import Steward, StewardOrAdmin, record, steward_city
from lianfang.api.timefmt import localise
from lianfang.ingest.batches import get_batch, list_batches

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
def batches(who: StewardOrAdmin, plat: PlatformDep, ing: IngestorDep, page: PageDep,
            status: str | None = None) -> dict[str, Any]:
    """Ingestion batches, newest first (optionally of one ``status``: running, done, failed, interrupted);
    a run that died reads ``interrupted`` (see ``Ingestor.reconcile_batches``)."""
    total, rows = list_batches(ing, limit=page.limit, offset=page.offset, status=status)
    items = [localise(r, plat.tz) for r in rows]
    return {"total": total, "limit": page.limit, "offset": page.offset, "items": items}


@router.get("/batches/{batch_id}")
def batch(batch_id: IdPath, who: StewardOrAdmin, plat: PlatformDep, ing: IngestorDep) -> dict[str, Any]:
    """One batch with its files and their counts; a run that died reads ``interrupted``."""
    found = get_batch(ing, batch_id)
    if found is None:
        raise HTTPException(404, f"no batch {batch_id}")
    files = found.pop("files")
    return {**localise(found, plat.tz), "files": [localise(f, plat.tz) for f in files]}
