"""Bulk insert through the driver's ``executemany`` (the ingestion hot path).

SQLAlchemy's Core insert costs several microseconds per row in parameter
processing; the rows here are already in database form, so they go to the DBAPI
cursor directly with a statement built once per table and dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect


@cache
def _statement(dialect_name: str, paramstyle: str, table: str, columns: tuple[str, ...], quote: Any) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    cols = ", ".join(quote(c) for c in columns)
    return f"INSERT INTO {quote(table)} ({cols}) VALUES ({', '.join([mark] * len(columns))})"


def insert_statement(dialect: Dialect, table: str, columns: tuple[str, ...]) -> str:
    return _statement(dialect.name, dialect.paramstyle, table, columns, dialect.identifier_preparer.quote)


def bulk_insert(conn: Connection, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        conn.exec_driver_sql(insert_statement(conn.dialect, table, columns), list(map(tuple, rows)))
