"""Cross-check with the standard's own value types, when they import: every clean value
normalises, and every defect raises exactly its recorded reason for its field.

The generator does not depend on ``lianfang.standard.types``; this test skips itself
if that package cannot be imported (it is written concurrently).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import demo_support as support
import pytest


def test_values_pass_or_fail_as_the_standard_says(small: Any) -> None:
    try:
        from lianfang.standard import load_standard
        from lianfang.standard.types import VALUE_TYPES, Context, InvalidValue
    except Exception as exc:  # pragma: no cover - only while the types are being written
        pytest.skip(f"standard value types unavailable: {exc.__class__.__name__}")
    standard = load_standard()
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 15, tzinfo=tz)
    defects = small.defects()
    compiled: dict[tuple[str, str, tuple[str, ...]], Any] = {}
    for path, file in small.files.items():
        category = standard.category(file.category)
        formats = tuple(file.mapping.get("formats", ()))
        for record in file.records:
            defect = defects.get((path, record.position))
            if record.fields is None:
                assert defect is not None and defect["reason"].startswith("parse."), (path, record.position)
                continue
            problems = []
            for name, text in support.apply(file.mapping, file.feed, record.fields).items():
                field = category.field(name)
                if text is None:
                    if field.required:
                        problems.append(("required.missing", name))
                    continue
                key = (file.category, name, formats)
                if key not in compiled:
                    table = standard.code_table(field.code_table) if field.code_table else None
                    compiled[key] = VALUE_TYPES[field.type].compile(
                        field, table, Context(tz=tz, formats=formats, now=now))
                try:
                    compiled[key](text)
                except InvalidValue as exc:
                    problems.append((exc.code, name))
            expected = [] if defect is None else [(defect["reason"], defect["field"])]
            assert problems == expected, (path, record.position, problems, expected)
