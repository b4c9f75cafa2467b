"""Where each kind of query looks: derived from the standard, never listed by hand.

A query of kind *k* searches every searchable field whose value type is *k*'s, in
every category: a citizen ID finds the person files, the vehicles they own, the
cases naming them as suspect, the sightings matched to them and the alerts about
them. Encrypted fields are matched through their blind index (digested per column),
plain ones by value; a phonetic name also through its sound key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, MetaData, Table

from lianfang.crypto import BlindIndex
from lianfang.search.recognise import Query, QueryKind
from lianfang.standard import Category, Standard
from lianfang.standard.phonetic import phonetic_key
from lianfang.store.codec import RecordCodec
from lianfang.store.schema import record_table_name

#: How results are grouped and in which order groups are shown.
GROUP_ORDER = ("person", "vehicle", "case", "sighting", "alert", "help_request", "device")

EXACT_KEY, EXACT_REF, SOUND = 1.0, 0.8, 0.5


@dataclass(frozen=True)
class Target:
    category: str
    field: str
    mode: str  # exact | sound
    score: float  # the record's own key or name 1.0, a reference to the subject 0.8, sounds alike 0.5

    def column(self, table: Table) -> Column[object]:
        if self.mode == "sound":
            return table.c[f"{self.field}_pybidx"]
        if f"{self.field}_bidx" in table.c:
            return table.c[f"{self.field}_bidx"]
        return table.c[self.field]

    def key(self, query: Query, blind: BlindIndex, encrypted: bool) -> object | None:
        """The value the column is compared with (a blind index for encrypted fields)."""
        if self.mode == "sound":
            sound = phonetic_key(query.value)
            return blind.digest(RecordCodec.phonetic_purpose(self.field), sound) if sound else None
        return blind.digest(self.field, query.value) if encrypted else query.value


class Targets:
    def __init__(self, standard: Standard, metadata: MetaData):
        self.standard = standard
        self.metadata = metadata
        self._by_kind: dict[QueryKind, list[Target]] = {}
        for kind in QueryKind:
            found: list[Target] = []
            for cat in self._ordered():
                for fld in cat.fields.values():
                    if fld.type != kind.value_type or not fld.searchable:
                        continue
                    # the record's own identity: a key field, or the name a phonetic field says it goes by
                    score = EXACT_KEY if fld.name in cat.key or fld.phonetic else EXACT_REF
                    found.append(Target(cat.name, fld.name, "exact", score))
                    if fld.phonetic:
                        found.append(Target(cat.name, fld.name, "sound", SOUND))
            self._by_kind[kind] = found

    def _ordered(self) -> list[Category]:
        cats = self.standard.categories
        first = [cats[n] for n in GROUP_ORDER if n in cats]
        return first + [c for n, c in cats.items() if n not in GROUP_ORDER and c.kind == "core"]

    def for_kind(self, kind: QueryKind) -> list[Target]:
        return list(self._by_kind[kind])

    def table(self, category: str) -> Table:
        return self.metadata.tables[record_table_name(category)]

    def encrypted(self, target: Target) -> bool:
        return self.standard.category(target.category).field(target.field).encrypted


__all__ = ["EXACT_KEY", "EXACT_REF", "GROUP_ORDER", "SOUND", "Target", "Targets"]
