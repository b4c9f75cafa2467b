"""``source check``: show the first records of a file as the standard would see them.

Nothing is stored. Personal values are masked unless the caller asks to reveal them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from lianfang.ingest.mapping import Feed, Mapping, find_feed
from lianfang.ingest.readers import Limits, open_reader
from lianfang.ingest.transform import Problem, Transformer, missing_columns
from lianfang.policy.masking import mask_value
from lianfang.standard import Standard


@dataclass
class PreviewRow:
    position: int
    locator: str
    values: dict[str, str | None]
    problems: list[Problem]


@dataclass
class Preview:
    mapping: str
    category: str
    rows: list[PreviewRow] = field(default_factory=list)
    scanned: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    missing_columns: list[str] = field(default_factory=list)


def _show(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def preview(
    mapping: Mapping,
    path: Path,
    standard: Standard,
    *,
    tz: ZoneInfo,
    limit: int = 10,
    scan: int = 1000,
    reveal: bool = False,
    limits: Limits | None = None,
) -> Preview:
    feed: Feed = mapping.feeds[0] if len(mapping.feeds) == 1 else find_feed([mapping], path)[1]
    transformer = Transformer(feed, standard, tz=tz)
    category = standard.category(feed.category)
    out = Preview(mapping=mapping.ref, category=feed.category)
    for rec in open_reader(path, feed.reader, limits or Limits()):
        if out.scanned == 0 and rec.problem is None and feed.reader.format in ("csv", "xlsx"):
            out.missing_columns = missing_columns(transformer, set(rec.fields))
        out.scanned += 1
        if rec.problem is not None:
            code = "parse.encoding" if rec.problem.startswith("encoding") else "parse.record"
            problems = [Problem(None, code, rec.problem)]
            values: dict[str, str | None] = {}
        else:
            raw_values, problems = transformer(rec.fields)
            values = {}
            for name, v in raw_values.items():
                fld = category.fields[name]
                shown = _show(v)
                if shown is not None and fld.personal and not reveal:
                    shown = mask_value(fld.type, shown)
                elif shown is not None and fld.code_table:
                    label = standard.code_table(fld.code_table).codes.get(shown)
                    shown = f"{shown} {label.zh}" if label else shown
                values[name] = shown
        out.problems.update(p.code for p in problems)
        if len(out.rows) < limit:
            out.rows.append(PreviewRow(rec.position, rec.locator, values, problems))
        if out.scanned >= scan:
            break
    return out
