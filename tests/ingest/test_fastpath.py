"""The fused row builder and the writer thread behave exactly like the reference path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lianfang.ingest import writer as writer_mod
from lianfang.ingest.mapping import Mapping, load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.ingest.readers import Limits, open_reader
from lianfang.ingest.rows import compile_row_builder
from lianfang.ingest.transform import Transformer

from .conftest import SIGHTING_MAPPING, person_csv, sighting_csv


def _reference_and_fused(
    ingestor: Ingestor, mapping: Mapping, path: Path
) -> list[tuple[object, object]]:
    feed = mapping.feeds[0]
    transformer = Transformer(feed, ingestor.standard, tz=ingestor.tz)
    codec = ingestor.codec(feed.category)
    build = compile_row_builder(transformer, codec)
    pairs = []
    for rec in open_reader(path, feed.reader, Limits()):
        if rec.problem is not None:
            continue
        values, problems = transformer(rec.fields)
        reference = None
        if not problems:
            reference = (
                codec.plain_row(values),
                codec.secret_texts(values),
                codec.dedup_text(values),
            )
            # the split helpers are what encode() and dedup_key() are made of
            assert codec.encode([values])[0][: len(codec.plain_fields)] == reference[0]
            assert codec.dedup_key(values) == codec.key_maker()(reference[2])
        pairs.append((reference, build(rec.fields)))
    return pairs


def test_fused_builder_matches_transformer_and_codec(
    ingestor: Ingestor, person_mapping: Mapping, sighting_mapping: Mapping, tmp_path: Path
) -> None:
    pairs = _reference_and_fused(ingestor, person_mapping, person_csv(tmp_path / "rk.csv"))
    pairs += _reference_and_fused(
        ingestor, sighting_mapping, sighting_csv(tmp_path / "kk.csv", 200, bad_every=7)
    )
    assert any(ref is None for ref, _ in pairs) and any(ref is not None for ref, _ in pairs)
    for reference, fused in pairs:
        assert fused == reference  # None (problems: the Transformer reports them) or equal


def test_duplicates_across_chunks_are_found_by_the_writer(
    ingestor: Ingestor, tmp_path: Path
) -> None:
    ingestor.settings.ingest_chunk_size = 50
    first = sighting_csv(tmp_path / "kk_a.csv", 120)
    again = sighting_csv(tmp_path / "kk_b.csv", 120, start=60)  # 60 old, 60 new
    ingestor.ingest([first])
    f = ingestor.ingest([again]).files[0]
    assert (f.read, f.accepted, f.duplicates, f.quarantined) == (120, 60, 60, 0)
    dup = ingestor.table("ingest_duplicate")
    with ingestor.engine.connect() as conn:
        notes = conn.execute(select(dup.c.original_id, dup.c.exact)).all()
    assert len(notes) == 60 and all(rid is not None for rid, _ in notes)


def failing_at(call: int, real: Callable[..., int]) -> Callable[..., int]:
    """``bulk_insert`` that raises on its ``call``-th call and stores as usual otherwise."""
    calls = 0

    def failing(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == call:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    return failing


def test_writer_error_surfaces_in_the_caller(
    ingestor: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor.settings.ingest_chunk_size = 10
    ingestor.settings.ingest_commit_rows = 10  # each chunk its own transaction
    real = writer_mod.bulk_insert
    monkeypatch.setattr(writer_mod, "bulk_insert", failing_at(2, real))
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingestor.ingest([sighting_csv(tmp_path / "kk_x.csv", 100)])
    table = ingestor.table("rec_sighting")
    files = ingestor.table("ingest_file")
    with ingestor.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(table)).scalar_one()
        checkpoint = conn.execute(select(files.c.checkpoint)).scalar_one()
    assert stored == 10 and checkpoint == 10  # the first chunk only: nothing after the failure


def test_a_failure_inside_a_multi_chunk_transaction_leaves_an_exact_checkpoint(
    ingestor: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks share a transaction while the producer is ahead: a failure rolls back all of them, checkpoint too."""
    ingestor.settings.ingest_chunk_size = 10
    ingestor.settings.ingest_commit_rows = 1000
    source = sighting_csv(tmp_path / "kk_y.csv", 100)
    real = writer_mod.bulk_insert
    monkeypatch.setattr(writer_mod, "bulk_insert", failing_at(6, real))
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingestor.ingest([source])
    table, files = ingestor.table("rec_sighting"), ingestor.table("ingest_file")
    with ingestor.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(table)).scalar_one()
        checkpoint, accepted = conn.execute(select(files.c.checkpoint, files.c.accepted)).one()
    assert stored == accepted == checkpoint and stored % 10 == 0 and stored < 60  # whole committed chunks only
    monkeypatch.setattr(writer_mod, "bulk_insert", real)
    again = ingestor.ingest([source])
    assert again.total("accepted") == 100 and again.total("duplicates") == 0
    with ingestor.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 100


def test_duplicates_of_stored_records_name_their_originals(ingestor: Ingestor, tmp_path: Path) -> None:
    """A chunk holding records stored by an earlier file (one of them twice) stores only the new ones."""
    first = sighting_csv(tmp_path / "kk_a.csv", 30)
    header, *lines = first.read_text(encoding="utf-8").splitlines()
    fresh = sighting_csv(tmp_path / "new.csv", 5, start=100).read_text(encoding="utf-8").splitlines()[1:]
    second = tmp_path / "kk_b.csv"
    second.write_text("\n".join([header, *lines[10:20], lines[12], *fresh]) + "\n", encoding="utf-8")
    ingestor.ingest([first])
    f = ingestor.ingest([second]).files[0]
    assert (f.read, f.accepted, f.duplicates, f.quarantined) == (16, 5, 11, 0)
    table, dup = ingestor.table("rec_sighting"), ingestor.table("ingest_duplicate")
    with ingestor.engine.connect() as conn:
        originals = dict(conn.execute(select(table.c.position, table.c.id).where(table.c.file_id == 1)).all())
        notes = conn.execute(select(dup.c.position, dup.c.original_id, dup.c.exact).order_by(dup.c.position)).all()
        new_positions = conn.execute(select(table.c.position).where(table.c.file_id == 2)).scalars().all()
    # lines[k] is record k + 1 of the first file; the second file's records 1-10 are lines[10:20], 11 is lines[12]
    assert [tuple(n) for n in notes] == [(p, originals[p + 10], 1) for p in range(1, 11)] + [(11, originals[13], 1)]
    assert sorted(new_positions) == [12, 13, 14, 15, 16]


def test_a_record_the_database_refuses_fails_its_chunk(
    ingestor: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row breaking a constraint other than the dedup key is never skipped silently."""
    from lianfang.ingest.chunks import ChunkBuilder

    real_build = ChunkBuilder.build
    classification = len(ingestor.codec("sighting").columns) + 1  # after dedup_key (LINEAGE_COLUMNS)

    def build(self: ChunkBuilder, chunk: list[Any], done_bytes: int) -> writer_mod.ChunkJob:
        job = real_build(self, chunk, done_bytes)
        bad = list(job.rows[3])
        bad[classification] = None  # NOT NULL
        job.rows[3] = tuple(bad)
        return job

    monkeypatch.setattr(ChunkBuilder, "build", build)
    # SQLite inserts a chunk first and skips what breaks a constraint (then finds the gap)
    said = "refused 1 record" if ingestor.engine.dialect.name == "sqlite" else "not-null"
    with pytest.raises(Exception, match=said):
        ingestor.ingest([sighting_csv(tmp_path / "kk_z.csv", 20)])
    table, files = ingestor.table("rec_sighting"), ingestor.table("ingest_file")
    with ingestor.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        assert conn.execute(select(files.c.checkpoint, files.c.accepted)).one() == (0, 0)


def _jobs_both_ways(ingestor: Ingestor, mapping: Mapping, path: Path) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The chunk's job through the generated loop, and through the reference loop, minus stamps and ciphertexts."""
    from lianfang.ingest.chunks import ChunkBuilder

    feed = mapping.feeds[0]
    transformer = Transformer(feed, ingestor.standard, tz=ingestor.tz)
    records = list(open_reader(path, feed.reader, Limits()))

    def job(fused: bool) -> tuple[Any, ...]:
        builder = ChunkBuilder(feed=feed, transformer=transformer, codec=ingestor.codec(feed.category),
                               cipher=ingestor.cipher, file_id=7, batch_id=3, city_code=mapping.city)
        assert builder._loop is not None  # a sighting feed without encrypted fields
        if not fused:
            builder._loop = None
        j = builder.build(records, 123)
        stamp = len(ingestor.codec(feed.category).columns) + 6  # ingested_at (see LINEAGE_COLUMNS)
        rows = [tuple(r[:stamp]) + tuple(r[stamp + 1 :]) for r in j.rows]
        quarantine = [{k: v for k, v in q.items() if k not in ("raw_enc", "fields_enc", "created_at")}
                      for q in j.quarantine]
        return (j.read, j.last_position, j.done_bytes, rows, j.keys, j.positions, j.hashes, j.repeats,
                quarantine, j.reasons)

    return job(True), job(False)


@pytest.mark.parametrize("source_id", [None, "SBBH"])
def test_generated_chunk_loop_builds_the_reference_job(
    ingestor: Ingestor, sighting_mapping: Mapping, tmp_path: Path, source_id: str | None
) -> None:
    """Clean rows, bad plates, an unreadable line, records repeated within the chunk: all as the reference does."""
    if source_id:
        match = '    match: "kk*.csv"\n'
        text = SIGHTING_MAPPING.replace(match, f"{match}    source_id: {source_id}\n")
        assert source_id in text
        (tmp_path / "with_id.yaml").write_text(text, encoding="utf-8")
        sighting_mapping = load_mapping(tmp_path / "with_id.yaml", ingestor.standard)
    path = sighting_csv(tmp_path / "kk.csv", 300, bad_every=7)
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    lines[40:40] = [lines[3], lines[10], "36020000001210000001,2026-10-01", lines[3]]  # repeats, a short line
    path.write_text("\n".join([header, *lines, lines[5]]) + "\n", encoding="utf-8")
    fused, reference = _jobs_both_ways(ingestor, sighting_mapping, path)
    assert fused == reference
    read, _last, _done, rows, _keys, _pos, _hashes, repeats, quarantine, _reasons = fused
    assert read == 305 and len(repeats) == 4 and len(quarantine) >= 44 and len(rows) == read - 4 - len(quarantine)


def test_a_feed_mapping_an_encrypted_field_keeps_the_reference_loop(
    ingestor: Ingestor, person_mapping: Mapping
) -> None:
    from lianfang.ingest.rows import compile_chunk_loop

    feed = person_mapping.feeds[0]
    transformer = Transformer(feed, ingestor.standard, tz=ingestor.tz)
    assert compile_chunk_loop(transformer, ingestor.codec("person"), lineage=("internal", 1, 1),
                              source_id=feed.source_id) is None
