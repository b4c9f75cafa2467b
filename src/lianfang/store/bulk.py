"""Bulk insert and the bulk dedup-key lookup (the ingestion hot path).

SQLAlchemy's Core insert costs several microseconds per row in parameter
processing; the rows here are already in database form, so they go to the DBAPI
cursor directly with a statement built once per table, dialect and batch size.

On SQLite the rows go as multi-row ``INSERT … VALUES (…), (…), …`` statements of up
to as many rows as SQLite's bound-variable limit allows rather than ``executemany``. Both do the
same inserts, but ``executemany`` releases and re-takes the GIL around every single
row's ``sqlite3_step``; with the ingestion writer on its own thread
(:mod:`lianfang.ingest.writer`) each re-take waits for the producer thread, which
made the writer ~8× slower under contention. One statement per thousand rows
releases the GIL for the whole batch: index maintenance then really runs beside
the producer's Python work. PostgreSQL keeps ``executemany`` (psycopg pipelines it).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal, overload

from sqlalchemy import Connection, Dialect

#: Rows per multi-row INSERT on SQLite; the variable limit (32,766 since SQLite 3.32)
#: usually caps it lower (1,489 rows of 22 columns). Fewer, larger statements measured
#: best: 250 rows 6.5 s, 1,000 rows 5.3 s, 1,489 rows 4.6 s for 200k sightings.
SQLITE_ROWS_PER_STATEMENT = 5000
_SQLITE_OLD_VARIABLE_LIMIT = 999  # SQLite before 3.32 (and Python before 3.11 cannot ask)


def batch_sizes(total: int, per: int) -> list[int]:
    """Split ``total`` into full batches of ``per`` and a remainder in powers of two.

    Every distinct batch size is a distinct SQL text, and SQLite's driver keeps up to
    128 prepared statements, each of which grows with its placeholder count: sizes
    that varied with every chunk (a chunk's fresh rows depend on its duplicates)
    kept hundreds of MB of huge statements alive. Powers of two bound the set of
    texts to about log2(per) + 1 per table.
    """
    sizes = [per] * (total // per)
    rest = total % per
    bit = 1 << max(rest.bit_length() - 1, 0)
    while rest:
        if rest >= bit:
            sizes.append(bit)
            rest -= bit
        bit >>= 1
    return sizes


@lru_cache(maxsize=256)
def _statement(
    dialect_name: str,
    paramstyle: str,
    table: str,
    columns: tuple[str, ...],
    quote: Any,
    rows: int = 1,
    or_ignore: bool = False,
) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    cols = ", ".join(quote(c) for c in columns)
    one = f"({', '.join([mark] * len(columns))})"
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    return f"{verb} INTO {quote(table)} ({cols}) VALUES {', '.join([one] * rows)}"


def insert_statement(
    dialect: Dialect, table: str, columns: tuple[str, ...], rows: int = 1, *, or_ignore: bool = False
) -> str:
    """``or_ignore``: SQLite's ``INSERT OR IGNORE`` (a row breaking a constraint is skipped)."""
    return _statement(
        dialect.name, dialect.paramstyle, table, columns, dialect.identifier_preparer.quote, rows, or_ignore
    )


def sqlite_variable_limit(conn: Connection) -> int:
    """Most bound parameters one SQLite statement may have on this connection."""
    dbapi = conn.connection.dbapi_connection
    getlimit = getattr(dbapi, "getlimit", None)
    if getlimit is None:
        return _SQLITE_OLD_VARIABLE_LIMIT
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def _pg_copy(conn: Connection, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    """``COPY … FROM STDIN`` on the connection's own transaction (psycopg 3)."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def bulk_insert(
    conn: Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    *,
    copy: bool = False,
    or_ignore: bool = False,
) -> int:
    """Insert ready rows; answers how many went in.

    ``copy``: on PostgreSQL use COPY (much faster for many small rows). ``or_ignore``
    (SQLite only): skip the rows that break a constraint (a dedup key already stored)
    instead of failing; the answer then counts only the rows inserted.
    """
    if not rows:
        return 0
    dialect = conn.dialect
    if or_ignore and dialect.name != "sqlite":
        raise ValueError("bulk_insert(or_ignore=True) is for SQLite only")
    if dialect.name == "postgresql" and copy:
        _pg_copy(conn, table, columns, rows)
        return len(rows)
    if dialect.name != "sqlite":
        conn.exec_driver_sql(insert_statement(dialect, table, columns), list(map(tuple, rows)))
        return len(rows)
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, sqlite_variable_limit(conn) // len(columns)))
    chain = itertools.chain.from_iterable
    i = inserted = 0
    for size in batch_sizes(len(rows), per):
        batch = rows[i : i + size]
        i += size
        sql = insert_statement(dialect, table, columns, size, or_ignore=or_ignore)
        inserted += conn.exec_driver_sql(sql, tuple(chain(batch))).rowcount
    return inserted


@overload
def select_existing_keys(
    conn: Connection, table: str, keys: Sequence[bytes], *, lineage: Literal[False] = False
) -> dict[bytes, tuple[int, bytes]]: ...


@overload
def select_existing_keys(
    conn: Connection, table: str, keys: Sequence[bytes], *, lineage: Literal[True]
) -> dict[bytes, tuple[int, bytes, int, int]]: ...


def select_existing_keys(
    conn: Connection, table: str, keys: Sequence[bytes], *, lineage: bool = False
) -> dict[bytes, tuple[int, bytes]] | dict[bytes, tuple[int, bytes, int, int]]:
    """``dedup_key -> (id, raw_hash)`` of the stored records among ``keys``
    (``lineage``: ``(id, raw_hash, file_id, position)``).

    Few, large ``IN`` lists: every statement is a GIL round trip for the writer thread.
    """
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    per = min(sqlite_variable_limit(conn), 20_000) if dialect.name == "sqlite" else 20_000
    found: dict[bytes, Any] = {}
    extra = ", file_id, position" if lineage else ""
    head = f"SELECT id, dedup_key, raw_hash{extra} FROM {quote(table)} WHERE dedup_key IN "
    i = 0
    for size in batch_sizes(len(keys), per):
        part = keys[i : i + size]
        i += size
        sql = head + "(" + ", ".join([mark] * size) + ")"
        for row in conn.exec_driver_sql(sql, tuple(part)):
            rid, key, raw_hash = row[:3]
            found[bytes(key)] = (
                (int(rid), bytes(raw_hash), row[3], row[4]) if lineage else (int(rid), bytes(raw_hash))
            )
    return found
