"""A process killed with SIGKILL mid-ingest, run again, ends with no loss and no duplicates.

The run that was killed does not stay ``running`` for ever: once its file is taken
over, its batch reads ``interrupted``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from lianfang.ingest.lease import current_owner
from lianfang.ingest.pipeline import Ingestor
from lianfang.settings import Settings

from .conftest import SIGHTING_MAPPING, sighting_csv

N = 40_000
BAD_EVERY = 97
SECONDARY = {"ix_rec_sighting_device_id_passed_at", "ix_rec_sighting_plate_no_passed_at"}


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux ``/proc``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


#: in-process, or with worker processes building the chunks and the indexes set aside
#: (the killed run leaves them missing; the run that resumes builds them)
MODES = {
    "one process": {},
    "workers": {"LIANFANG_INGEST_WORKERS": "2", "LIANFANG_INGEST_PARALLEL_MIN_BYTES": "0",
                "LIANFANG_INGEST_DEFER_INDEXES_ROWS": "1000"},
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(MODES))
def test_kill_minus_nine_then_resume(
    ingestor: Ingestor, settings: Settings, tmp_path: Path, mode: str
) -> None:
    source = sighting_csv(tmp_path / "kk_big.csv", N, bad_every=BAD_EVERY)
    mapping = tmp_path / "kk.yaml"
    mapping.write_text(SIGHTING_MAPPING, encoding="utf-8")
    env = {
        **os.environ,
        "LIANFANG_VAR_DIR": str(settings.var_dir),
        "LIANFANG_DATABASE_URL": settings.resolved_database_url(),
        "LIANFANG_INGEST_CHUNK_SIZE": "500",
        "LIANFANG_INGEST_COMMIT_ROWS": "1500",  # up to three chunks per transaction, as large files do
        **MODES[mode],
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lianfang",
            "ingest",
            str(source),
            "--mapping",
            str(mapping),
            "--json",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    files = ingestor.table("ingest_file")
    deadline = time.monotonic() + 120
    checkpoint = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with ingestor.engine.connect() as conn:
                checkpoint = conn.execute(select(func.max(files.c.checkpoint))).scalar() or 0
            if checkpoint >= 3000:
                break
            time.sleep(0.02)
        assert proc.poll() is None, (
            f"ingest ended before it could be killed: {proc.stderr.read()!r}"
        )  # type: ignore[union-attr]
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if mode == "workers":
        assert workers  # (and the resource tracker) — they end by themselves once their caller is gone
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(_running, workers)):
            time.sleep(0.1)
        assert not [pid for pid in workers if _running(pid)]
    batches = ingestor.table("ingest_batch")
    killed_owner = f"{current_owner().rpartition(':')[0]}:{proc.pid}"
    with ingestor.engine.connect() as conn:
        row = conn.execute(select(files)).mappings().one()
        killed = conn.execute(select(batches)).mappings().one()
    assert row["status"] == "running" and 0 < row["checkpoint"] < N
    assert row["owner"] == killed_owner and row["heartbeat_at"] is not None
    assert (killed["status"], killed["owner"], killed["finished_at"]) == ("running", killed_owner, None)

    rec = ingestor.table("rec_sighting")
    if mode == "workers":
        assert not {ix["name"] for ix in inspect(ingestor.engine).get_indexes(rec.name)} & SECONDARY
        ingestor.settings.ingest_workers, ingestor.settings.ingest_parallel_min_bytes = 2, 0
    before = int(time.time() * 1000)
    batch = ingestor.ingest([source], mapping=ingestor.mappings[1])
    result = batch.files[0]
    assert result.status == "done" and result.resumed_from == row["checkpoint"]
    with ingestor.engine.connect() as conn:
        old, new = conn.execute(select(batches).order_by(batches.c.id)).mappings().all()
    # the killed run's batch was given up when its file was taken over; the new one finished it
    assert old["id"] == killed["id"] and old["status"] == "interrupted"
    assert old["finished_at"] is not None and old["finished_at"] >= before
    assert (old["files"], old["records_read"]) == (1, row["records_read"])
    assert new["id"] == batch.batch_id and new["status"] == "done" and new["records_read"] == N
    bad = len([i for i in range(N) if i % BAD_EVERY == 0])
    assert (result.read, result.accepted, result.quarantined, result.duplicates) == (
        N,
        N - bad,
        bad,
        0,
    )
    assert {ix["name"] for ix in inspect(ingestor.engine).get_indexes(rec.name)} >= SECONDARY
    quarantine = ingestor.table("quarantine")
    with ingestor.engine.connect() as conn:
        stored = conn.execute(
            select(func.count(), func.count(func.distinct(rec.c.position))).select_from(rec)
        ).one()
        quarantined = conn.execute(
            select(func.count(), func.count(func.distinct(quarantine.c.position))).select_from(
                quarantine
            )
        ).one()
    assert tuple(stored) == (N - bad, N - bad)
    assert tuple(quarantined) == (bad, bad)
