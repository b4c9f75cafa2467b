"""Bulk statements: every row goes in once, and the set of distinct statement sizes stays small."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lianfang.store.bulk import batch_sizes


@given(total=st.integers(0, 200_000), per=st.integers(1, 5_000))
def test_batch_sizes_cover_every_row_with_few_distinct_statements(total: int, per: int) -> None:
    sizes = batch_sizes(total, per)
    assert sum(sizes) == total
    assert all(0 < s <= per for s in sizes)
    # a distinct size is a distinct prepared statement kept by the driver's cache
    assert len(set(sizes)) <= per.bit_length() + 1
    assert all(s == per or s & (s - 1) == 0 for s in sizes)
