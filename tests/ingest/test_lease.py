"""Leases: a file a live run is ingesting is busy; one whose run died is resumed, and that run reads interrupted."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from lianfang.ingest.lease import current_owner
from lianfang.ingest.pipeline import INTERRUPTED_FILE, Ingestor
from lianfang.platform import Platform

from .conftest import dead_owner, sighting_csv

N, CUT, BAD_EVERY = 1000, 500, 97  # the settings fixture commits 500 records a chunk


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def live_child() -> Iterator[str]:
    """The lease owner of a live process on this host that is not the test process."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield f"{current_owner().rpartition(':')[0]}:{proc.pid}"
    finally:
        proc.kill()
        proc.wait()


def interrupted_run(ing: Ingestor, path: Path, *, owner: str | None, heartbeat_at: int | None) -> int:
    """Ingest ``path``, then rewind the store to what a run holding it after its first chunk leaves.

    Answers the id of that run's batch, left ``running`` under ``owner``.
    """
    first = ing.ingest([path])
    batch_id, file_id = first.batch_id, first.files[0].file_id
    rec, q, files, batches = (ing.table(t) for t in ("rec_sighting", "quarantine", "ingest_file", "ingest_batch"))
    with ing.engine.begin() as conn:
        conn.execute(delete(rec).where(rec.c.file_id == file_id, rec.c.position > CUT))
        conn.execute(delete(q).where(q.c.file_id == file_id, q.c.position > CUT))
        accepted = conn.execute(select(func.count()).where(rec.c.file_id == file_id)).scalar_one()
        quarantined = conn.execute(select(func.count()).where(q.c.file_id == file_id)).scalar_one()
        conn.execute(
            update(files).where(files.c.id == file_id).values(
                status="running", checkpoint=CUT, records_read=CUT, accepted=accepted, quarantined=quarantined,
                duplicates=0, finished_at=None, owner=owner, heartbeat_at=heartbeat_at,
            )
        )
        conn.execute(
            update(batches).where(batches.c.id == batch_id).values(
                status="running", finished_at=None, owner=owner, heartbeat_at=heartbeat_at
            )
        )
    return batch_id


def snapshot(ing: Ingestor) -> tuple[Any, ...]:
    rec, q, files = ing.table("rec_sighting"), ing.table("quarantine"), ing.table("ingest_file")
    with ing.engine.connect() as conn:
        return (
            dict(conn.execute(select(files)).mappings().one()),
            conn.execute(select(func.count()).select_from(rec)).scalar_one(),
            conn.execute(select(func.count()).select_from(q)).scalar_one(),
        )


def batch_row(ing: Ingestor, batch_id: int) -> dict[str, Any]:
    b = ing.table("ingest_batch")
    with ing.engine.connect() as conn:
        return dict(conn.execute(select(b).where(b.c.id == batch_id)).mappings().one())


@pytest.mark.parametrize("holder", ["this process", "another process"])
def test_a_file_a_live_run_holds_is_busy_and_untouched(
    ingestor: Ingestor, tmp_path: Path, live_child: str, holder: str
) -> None:
    owner = current_owner() if holder == "this process" else live_child
    path = sighting_csv(tmp_path / "kk_1.csv", N, bad_every=BAD_EVERY)
    held_batch = interrupted_run(ingestor, path, owner=owner, heartbeat_at=now_ms())
    before = snapshot(ingestor)

    second = ingestor.ingest([path])
    result = second.files[0]
    assert (result.status, result.reason) == ("failed", "busy")
    assert owner in (result.error or "") and "run again when it ends" in (result.error or "")
    assert result.resumed_from == 0 and result.read == 0
    assert snapshot(ingestor) == before  # counts, checkpoint, status, lease: all as the holder left them
    assert batch_row(ingestor, second.batch_id)["status"] == "failed"

    # the holder's batch is alive: listing batches leaves it running
    assert ingestor.reconcile_batches() == []
    assert batch_row(ingestor, held_batch)["status"] == "running"


@pytest.mark.parametrize("holder", ["dead pid on this host", "stale heartbeat", "written before leases"])
def test_a_file_a_dead_run_held_is_resumed_and_that_run_interrupted(
    ingestor: Ingestor, tmp_path: Path, holder: str
) -> None:
    stale_ms = ingestor.lease_stale_ms
    owner, heartbeat = {
        "dead pid on this host": (dead_owner(), now_ms()),
        "stale heartbeat": (current_owner(), now_ms() - stale_ms - 1000),  # alive, but silent too long
        "written before leases": (None, None),
    }[holder]
    path = sighting_csv(tmp_path / "kk_1.csv", N, bad_every=BAD_EVERY)
    held_batch = interrupted_run(ingestor, path, owner=owner, heartbeat_at=heartbeat)
    _, accepted_before, _ = snapshot(ingestor)
    assert 0 < accepted_before < N

    started = now_ms()
    second = ingestor.ingest([path])
    result = second.files[0]
    bad = len([i for i in range(N) if i % BAD_EVERY == 0])
    assert result.status == "done" and result.resumed_from == CUT
    assert (result.read, result.accepted, result.quarantined, result.duplicates) == (N, N - bad, bad, 0)
    row, stored, quarantined = snapshot(ingestor)
    assert (stored, quarantined) == (N - bad, bad)
    assert (row["status"], row["checkpoint"], row["batch_id"]) == ("done", N, second.batch_id)
    assert row["owner"] == current_owner()

    old = batch_row(ingestor, held_batch)
    assert old["status"] == "interrupted" and old["finished_at"] >= started
    assert batch_row(ingestor, second.batch_id)["status"] == "done"


def test_a_running_batch_whose_run_died_is_listed_as_interrupted(
    ingestor: Ingestor, tmp_path: Path, live_child: str
) -> None:
    dead = interrupted_run(ingestor, sighting_csv(tmp_path / "kk_1.csv", N), owner=dead_owner(), heartbeat_at=now_ms())
    live = interrupted_run(ingestor, sighting_csv(tmp_path / "kk_2.csv", N, start=N), owner=live_child,
                           heartbeat_at=now_ms())
    started = now_ms()
    assert ingestor.reconcile_batches() == [dead]
    assert ingestor.reconcile_batches() == []  # stored: the next listing has nothing to do

    gone, alive = batch_row(ingestor, dead), batch_row(ingestor, live)
    assert gone["status"] == "interrupted" and gone["finished_at"] >= started
    assert (gone["files"], gone["records_read"]) == (1, CUT)
    assert alive["status"] == "running" and alive["finished_at"] is None
    files = ingestor.table("ingest_file")
    with ingestor.engine.connect() as conn:
        states = dict(conn.execute(select(files.c.batch_id, files.c.status)).all())
        error = conn.execute(select(files.c.error).where(files.c.batch_id == dead)).scalar_one()
    assert states == {dead: "failed", live: "running"} and error == INTERRUPTED_FILE

    # a file of an interrupted batch resumes like any failed file
    result = ingestor.ingest([tmp_path / "kk_1.csv"]).files[0]
    assert result.status == "done" and result.resumed_from == CUT and result.read == N


def test_a_run_whose_file_was_taken_over_stops_and_reports_busy(
    ingestor: Ingestor, platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A holder that went quiet too long loses its file to another run; it must not write over that run."""
    import lianfang.ingest.chunks as chunks

    path = sighting_csv(tmp_path / "kk_1.csv", N, bad_every=BAD_EVERY)
    held_batch = interrupted_run(ingestor, path, owner=dead_owner(), heartbeat_at=now_ms())
    slow = Ingestor(engine=ingestor.engine, standard=ingestor.standard, keyring=platform.keyring,
                    settings=ingestor.settings.model_copy(update={"ingest_lease_stale_s": 0.001}),
                    mappings=ingestor.mappings)
    monkeypatch.setattr(chunks, "_BEAT_EVERY", 100)  # look at the heartbeat clock often while re-reading
    files = ingestor.table("ingest_file")
    beat = slow._beat

    def taken_over_first(state: Any) -> None:  # meanwhile another run claims the file
        with ingestor.engine.begin() as conn:
            conn.execute(update(files).values(batch_id=held_batch, owner="elsewhere:1", heartbeat_at=now_ms()))
        beat(state)

    monkeypatch.setattr(slow, "_beat", taken_over_first)
    _, stored_before, quarantined_before = snapshot(ingestor)
    result = slow.ingest([path]).files[0]
    assert (result.status, result.reason) == ("failed", "busy") and "took this file over" in (result.error or "")
    row, stored, quarantined = snapshot(ingestor)
    assert (row["status"], row["checkpoint"], row["owner"], row["batch_id"]) == ("running", CUT, "elsewhere:1",
                                                                                  held_batch)
    # nothing after the checkpoint was stored by the run that lost the file
    assert (stored, quarantined) == (stored_before, quarantined_before)
