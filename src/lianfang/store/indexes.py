"""Secondary indexes of the record tables: set aside during a bulk load, built afterwards.

Keeping an index up to date row by row costs a random B-tree insert per row; building
it afterwards sorts once. For the million-sighting file of the benchmark, storing
ready rows with the three secondary indexes of ``rec_sighting`` (plate + time,
device + time, matched person) kept live took 16 s, and 9 s with them built at the
end (``bench/writer_floor.py`` measures both).

So a file that will at least double its table (:func:`worth_deferring`) is loaded
without them: :func:`set_aside` drops them in a short transaction of its own, and
:func:`restore` builds whichever are missing once the file ends, in one transaction,
whether it ended well or not. The unique dedup index is never set aside: ingestion
looks up every key in it.

Nothing is lost if the process dies meanwhile: the definitions live in the schema
(:func:`lianfang.store.schema.build_metadata`), not in the database, and
:func:`restore` builds what is missing when ``lianfang ingest`` or ``lianfang serve``
starts and when a resumed file ends. Until then queries on the table are correct
but slower (they scan). Two runs loading the same table
are safe too: each restores at its end, ``IF NOT EXISTS``, and an index restored
while the other still loads is simply kept up to date by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Connection, Engine, Index, Table, func, inspect, select
from sqlalchemy.schema import CreateIndex, DropIndex

#: What a restore reports: (index name, table name) as each one starts.
OnIndex = Callable[[str, str], None]


def secondary_indexes(table: Table) -> list[Index]:
    """The table's non-unique indexes, by name (unique ones are constraints we rely on)."""
    return sorted((ix for ix in table.indexes if not ix.unique), key=lambda ix: str(ix.name))


def worth_deferring(conn: Connection, table: Table, incoming: int, min_rows: int) -> bool:
    """True if ``incoming`` records are at least ``min_rows`` (0: never) and as many as the table holds.

    The table's size is read as its largest id (one index probe; ids only grow), an
    upper bound of its row count: the rule errs towards keeping indexes live.
    """
    if min_rows <= 0 or incoming < min_rows or not secondary_indexes(table):
        return False
    largest = conn.execute(select(func.max(table.c.id))).scalar()
    return incoming >= int(largest or 0)


def set_aside(engine: Engine, table: Table) -> list[str]:
    """Drop the table's secondary indexes in a transaction of their own; answers their names."""
    names = []
    with engine.begin() as conn:
        present = _present(conn, table)
        for ix in secondary_indexes(table):
            if ix.name in present:
                conn.execute(DropIndex(ix, if_exists=True))
                names.append(str(ix.name))
    return names


def restore(engine: Engine, tables: Iterable[Table], on_index: OnIndex | None = None) -> list[str]:
    """Build every secondary index of ``tables`` that the database lacks; answers their names."""
    built: list[str] = []
    with engine.begin() as conn:
        for table in tables:
            present = _present(conn, table)
            for ix in secondary_indexes(table):
                if ix.name in present:
                    continue
                if on_index is not None:
                    on_index(str(ix.name), table.name)
                conn.execute(CreateIndex(ix, if_not_exists=True))
                built.append(str(ix.name))
    return built


def _present(conn: Connection, table: Table) -> set[str]:
    return {str(ix["name"]) for ix in inspect(conn).get_indexes(table.name)}


__all__ = [
    "OnIndex",
    "restore",
    "secondary_indexes",
    "set_aside",
    "worth_deferring",
]
