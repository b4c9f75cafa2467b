"""Bulk statements: every row goes in once, and the set of distinct statement sizes stays small."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from lianfang.store.bulk import batch_sizes, bulk_insert


@given(total=st.integers(0, 200_000), per=st.integers(1, 5_000))
def test_batch_sizes_cover_every_row_with_few_distinct_statements(total: int, per: int) -> None:
    sizes = batch_sizes(total, per)
    assert sum(sizes) == total
    assert all(0 < s <= per for s in sizes)
    # a distinct size is a distinct prepared statement kept by the driver's cache
    assert len(set(sizes)) <= per.bit_length() + 1
    assert all(s == per or s & (s - 1) == 0 for s in sizes)


def test_bulk_insert_counts_what_went_in_and_skips_stored_keys_on_request(tmp_path: Path) -> None:
    """SQLite: a plain insert of a stored key fails; ``or_ignore`` skips it and the count says so."""
    engine = create_engine(f"sqlite:///{tmp_path}/bulk.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, k BLOB NOT NULL UNIQUE, v TEXT)"))
        rows = [(i.to_bytes(2, "big"), f"v{i}") for i in range(300)]
        assert bulk_insert(conn, "t", ("k", "v"), rows) == 300
        again = [(i.to_bytes(2, "big"), "again") for i in range(290, 310)]  # 10 stored, 10 new
        with pytest.raises(IntegrityError), conn.begin_nested():
            bulk_insert(conn, "t", ("k", "v"), again)
        assert bulk_insert(conn, "t", ("k", "v"), again, or_ignore=True) == 10
        assert conn.execute(text("SELECT count(*), sum(v = 'again') FROM t")).one() == (310, 10)
        refused = [(b"\xff\xff", "x"), (None, "no key")]  # NOT NULL: skipped too, and not counted
        assert bulk_insert(conn, "t", ("k", "v"), refused, or_ignore=True) == 1
