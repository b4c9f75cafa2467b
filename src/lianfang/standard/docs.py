"""Render the standard as Markdown: the generated reference ``docs/standard.md``.

The output depends only on the loaded standard, so it is deterministic and a test
can compare it with the committed file. Writing the file is the CLI's job
(``lianfang standard docs``): this layer does no I/O.
"""

from __future__ import annotations

from lianfang.standard.levels import Level
from lianfang.standard.model import Category, CodeTable, Field, Standard

_YES = "✓"
_COLUMNS = (
    "field",
    "中文",
    "type",
    "required",
    "level",
    "personal",
    "encrypted",
    "searchable",
    "code table",
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cells: tuple[str, ...] | list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _level(level: Level) -> str:
    return f"{level.label_zh} {level.value}"


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,}"


def _type(field: Field) -> str:
    limits = []
    if field.max_length is not None:
        limits.append(f"≤ {field.max_length} chars")
    if field.min is not None or field.max is not None:
        low = "" if field.min is None else _number(field.min)
        high = "" if field.max is None else _number(field.max)
        limits.append(f"{low}–{high}")
    return f"`{field.type}`" + (f" ({', '.join(limits)})" if limits else "")


def _field_row(field: Field) -> str:
    flag = {True: _YES, False: ""}
    return _row(
        [
            f"`{field.name}`",
            _cell(field.label.zh),
            _type(field),
            flag[field.required],
            field.level.value,
            flag[field.personal],
            flag[field.encrypted],
            "✓ + sound" if field.phonetic else flag[field.searchable],
            f"`{field.code_table}`" if field.code_table else "",
        ]
    )


def _category(category: Category) -> list[str]:
    lines = [
        f"## {_cell(category.label.zh)} · {_cell(category.label.en)} (`{category.name}`)",
        "",
        f"{_cell(category.description.zh)} — {_cell(category.description.en)}",
        "",
        f"- Kind: {category.kind}",
        f"- Default level: {_level(category.default_level)}",
        f"- Key fields: {', '.join(f'`{k}`' for k in category.key)}",
    ]
    if category.indexes:
        indexes = "; ".join("(" + ", ".join(f"`{c}`" for c in ix) + ")" for ix in category.indexes)
        lines.append(f"- Indexes: {indexes}")
    lines += ["", _row(_COLUMNS), _row(["---"] * len(_COLUMNS))]
    lines += [_field_row(f) for f in category.fields.values()]
    return [*lines, ""]


def _code_table(table: CodeTable) -> list[str]:
    lines = [f"### {_cell(table.label.zh)} · {_cell(table.label.en)} (`{table.name}`)", ""]
    if table.source:
        lines += [f"Source: {_cell(table.source)}", ""]
    lines += [_row(("code", "中文", "English")), _row(("---", "---", "---"))]
    lines += [_row((f"`{c}`", _cell(lb.zh), _cell(lb.en))) for c, lb in table.codes.items()]
    return [*lines, ""]


def render_markdown(standard: Standard) -> str:
    levels = " < ".join(_level(level) for level in sorted(Level, key=lambda lv: lv.rank))
    lines = [
        "# 治安数据标准 · The lianfang data standard",
        "",
        "<!-- Generated file: do not edit by hand. -->",
        "This file is generated from the YAML under `src/lianfang/standard/` by "
        "`lianfang standard docs` and must not be edited by hand: change the YAML and "
        "run the command again (a test fails while this file is stale).",
        "",
        f"Standard version `{standard.version}`.",
        "",
        f"Classification levels, lowest first: {levels}. A field is stored encrypted (SM4) "
        "when it is personal or its level is sensitive or above. Searchable encrypted fields are "
        "matched through a blind index (HMAC-SM3); \"✓ + sound\" marks a name also indexed by its "
        "toneless pinyin, so that search finds names that sound the same (张伟, 张玮).",
        "",
        "Categories: "
        + ", ".join(f"{c.label.zh} (`{c.name}`)" for c in standard.categories.values())
        + ".",
        "",
    ]
    for category in standard.categories.values():
        lines += _category(category)
    lines += ["## 代码表 · Code tables", ""]
    for name in sorted(standard.code_tables):
        lines += _code_table(standard.code_tables[name])
    return "\n".join(lines).rstrip("\n") + "\n"
