"""Big files are built by worker processes: what is stored is what one process stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from lianfang.ingest.pipeline import Ingestor

from .conftest import sighting_csv

N, BAD_EVERY, REPEATED = 600, 7, 30


def _parallel(ingestor: Ingestor, workers: int) -> None:
    ingestor.settings.ingest_workers = workers
    ingestor.settings.ingest_parallel_min_bytes = 0  # every file, however small
    ingestor.settings.ingest_chunk_size = 50


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_store_each_record_once_in_file_order_of_chunks(
    ingestor: Ingestor, tmp_path: Path, workers: int
) -> None:
    source = sighting_csv(tmp_path / "kk_par.csv", N, bad_every=BAD_EVERY)
    lines = source.read_text(encoding="utf-8").splitlines()
    # the first records again at the end: duplicates of rows another worker built
    source.write_text("\n".join(lines + lines[1 : REPEATED + 1]) + "\n", encoding="utf-8")
    _parallel(ingestor, workers)
    f = ingestor.ingest([source]).files[0]
    bad = len([i for i in range(N) if i % BAD_EVERY == 0])
    bad_again = len([i for i in range(REPEATED) if i % BAD_EVERY == 0])
    assert f.status == "done", f.error
    assert (f.read, f.accepted, f.quarantined, f.duplicates) == (
        N + REPEATED, N - bad, bad + bad_again, REPEATED - bad_again)
    rec, files = ingestor.table("rec_sighting"), ingestor.table("ingest_file")
    dup, quarantine = ingestor.table("ingest_duplicate"), ingestor.table("quarantine")
    with ingestor.engine.connect() as conn:
        positions = sorted(conn.execute(select(rec.c.position)).scalars())
        checkpoint = conn.execute(select(files.c.checkpoint)).scalar_one()
        originals = conn.execute(select(dup.c.original_id, dup.c.exact)).all()
        rejected = sorted(conn.execute(select(quarantine.c.position)).scalars())
    assert positions == [i + 1 for i in range(N) if i % BAD_EVERY]
    assert rejected == sorted([i + 1 for i in range(N) if i % BAD_EVERY == 0]
                              + [N + i + 1 for i in range(REPEATED) if i % BAD_EVERY == 0])
    assert checkpoint == N + REPEATED
    assert len(originals) == REPEATED - bad_again and all(rid is not None and exact for rid, exact in originals)


def test_a_worker_error_fails_the_file_as_in_one_process(ingestor: Ingestor, tmp_path: Path) -> None:
    source = tmp_path / "kk_cols.csv"
    source.write_text("SBBH,GCSJ,HPHM\n36020000001210000001,2026-10-01 08:00:00,赣B00001\n", encoding="utf-8")
    _parallel(ingestor, 2)
    f = ingestor.ingest([source]).files[0]
    assert (f.status, f.reason) == ("failed", "mapping") and "HPZL" in (f.error or "")
    rec = ingestor.table("rec_sighting")
    with ingestor.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rec)).scalar_one() == 0


def test_workers_start_before_the_claim_and_stop_when_the_file_needs_none(
    ingestor: Ingestor, tmp_path: Path
) -> None:
    """Workers start while the file is hashed and claimed; a file already stored stops them unused."""
    import multiprocessing

    def ours() -> list[str]:
        return [p.name for p in multiprocessing.active_children() if p.name.startswith("lianfang-ingest")]

    _parallel(ingestor, 2)
    source = sighting_csv(tmp_path / "kk_twice.csv", 120)
    first = ingestor.ingest([source]).files[0]
    assert (first.status, first.accepted) == ("done", 120) and ours() == []
    again = ingestor.ingest([source]).files[0]
    assert again.status == "skipped" and ours() == []


def test_a_worker_imports_no_database_layer_and_no_workbook_reader() -> None:
    """What a worker process imports (``spawn`` starts it bare): the sooner it builds its first chunk."""
    import subprocess
    import sys

    code = ("import sys, lianfang.ingest.parallel; "
            "print(sorted(m for m in ('sqlalchemy', 'openpyxl', 'fastapi') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_the_first_chunk_is_small_so_the_writer_starts_early(ingestor: Ingestor, tmp_path: Path) -> None:
    from lianfang.ingest.chunks import FIRST_CHUNK, read_chunks
    from lianfang.ingest.readers import Limits
    from lianfang.ingest.transform import Transformer

    feed = ingestor.mappings[1].feeds[0]  # the sighting mapping
    source = sighting_csv(tmp_path / "kk_sizes.csv", FIRST_CHUNK + 2 * 3000 + 5)
    transformer = Transformer(feed, ingestor.standard, tz=ingestor.tz)
    sizes = [len(c) for c, _ in read_chunks(source, feed, transformer, Limits(), 3000)]
    assert sizes == [FIRST_CHUNK, 3000, 3000, 5]
    resumed = [len(c) for c, _ in read_chunks(source, feed, transformer, Limits(), 3000, skip=10)]
    assert resumed == [FIRST_CHUNK, 3000, 2995]
