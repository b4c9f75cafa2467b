"""Map → normalise → validate one source record into standard values.

A feed is compiled once into a :class:`Transformer`; calling it on a record's raw
fields returns the standard values, or the list of problems that send the record
to quarantine. This is the hot path of ingestion, so rules are flattened into
tuples and value types are pre-compiled per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from lianfang.ingest.mapping import Feed
from lianfang.standard import Standard
from lianfang.standard.types import VALUE_TYPES, Context, InvalidValue
from lianfang.standard.types.base import Normaliser

#: target, single source (or None), sources, join, const, value map, default, normaliser, required
Rule = tuple[
    str,
    str | None,
    tuple[str, ...],
    str,
    str | None,
    Mapping[str, str] | None,
    str | None,
    Normaliser,
    bool,
]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record was rejected. Never carries the value itself (it may be personal)."""

    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "code": self.code, "message": self.message}


class Transformer:
    def __init__(
        self, feed: Feed, standard: Standard, *, tz: ZoneInfo, now: datetime | None = None
    ):
        category = standard.category(feed.category)
        self.category = category
        self.feed = feed
        self.columns = sorted({s for r in feed.rules for s in r.sources})
        self._rules: list[Rule] = []
        #: the date formats each rule's value type was compiled with (parallel to ``rules``)
        self.formats: list[tuple[str, ...]] = []
        for rule in feed.rules:
            fld = category.field(rule.target)
            table = standard.code_table(fld.code_table) if fld.code_table else None
            ctx = Context(tz=tz, formats=rule.formats or feed.formats, now=now)
            self.formats.append(ctx.formats)
            normalise = VALUE_TYPES[fld.type].compile(fld, table, ctx)
            single = rule.sources[0] if len(rule.sources) == 1 else None
            self._rules.append(
                (
                    rule.target,
                    single,
                    rule.sources,
                    rule.join,
                    rule.const,
                    rule.value_map,
                    rule.default,
                    normalise,
                    fld.required,
                )
            )

    @property
    def rules(self) -> list[Rule]:
        """The compiled rules, in mapping order (read by :mod:`lianfang.ingest.rows`)."""
        return list(self._rules)

    def __call__(self, raw: dict[str, str | None]) -> tuple[dict[str, object], list[Problem]]:
        values: dict[str, object] = {}
        problems: list[Problem] = []
        for target, single, sources, join, const, vmap, default, normalise, required in self._rules:
            if const is not None:
                text: str | None = const
            elif single is not None:
                text = raw.get(single)
            else:
                parts = [raw.get(s) or "" for s in sources]
                text = join.join(p.strip() for p in parts)
            if text is not None:
                text = text.strip()
            if not text:
                text = default
            if text is None:
                if required:
                    problems.append(Problem(target, "required.missing", "required value is empty"))
                values[target] = None
                continue
            if vmap is not None:
                text = vmap.get(text, text)
            try:
                values[target] = normalise(text)
            except InvalidValue as exc:
                problems.append(Problem(target, exc.code, exc.message))
        return values, problems


def missing_columns(transformer: Transformer, header: set[str]) -> list[str]:
    """Columns the mapping reads that a fixed-header file does not have."""
    return [c for c in transformer.columns if c not in header]


__all__ = ["Problem", "Transformer", "missing_columns"]
