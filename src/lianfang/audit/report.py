"""The periodic audit report (定期审计): one quarter of the trail, as HTML and PDF with charts.

Contents: data accesses by owning city, by the user's unit and by purpose; outcomes
(allowed, masked, denied, hidden); access requests and their decisions; alarms by
rule and disposition; the integrity verification of the whole trail; the users with
the most reads. Everything is counted from the trail itself, streamed (bounded
memory for any quarter), and no personal value appears: users are named by
account, records by ID.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from lianfang.audit import Audit
from lianfang.audit.alarms import AlarmEngine

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


class ReportError(ValueError):
    pass


def quarter_bounds(quarter: str, tz: ZoneInfo) -> tuple[int, int]:
    """[start, end) of a quarter such as ``2026Q3`` in epoch ms, in the platform's zone."""
    m = _QUARTER.match(quarter.strip().upper())
    if m is None:
        raise ReportError(f"a quarter is written like 2026Q3, not {quarter!r}")
    year, q = int(m.group(1)), int(m.group(2))
    start = datetime(year, 3 * q - 2, 1, tzinfo=tz)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=tz)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


@dataclass
class QuarterReport:
    quarter: str
    generated_at: str
    events: int = 0
    by_city: Counter[str] = field(default_factory=Counter)
    by_unit: Counter[str] = field(default_factory=Counter)
    by_purpose: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    sign_ins: Counter[str] = field(default_factory=Counter)
    by_user: Counter[str] = field(default_factory=Counter)
    alarms: dict[str, Counter[str]] = field(default_factory=dict)
    verified: bool = False
    verified_records: int = 0
    problems: list[str] = field(default_factory=list)


def build_report(
    audit: Audit, alarms: AlarmEngine, quarter: str, tz: ZoneInfo, *, verify: bool = True
) -> QuarterReport:
    start, end = quarter_bounds(quarter, tz)
    rep = QuarterReport(quarter.upper(), datetime.now(tz).isoformat(timespec="minutes"))
    e = audit.events.c
    q = (
        select(e.action, e.outcome, e.username, e.unit_code, e.purpose, e.detail)
        .where(e.at_ms >= start, e.at_ms < end)
        .order_by(e.seq)
    )
    with audit.engine.connect() as conn:
        for rows in conn.execution_options(stream_results=True).execute(q).partitions(10_000):
            for action, outcome, username, unit, purpose, detail in rows:
                rep.events += 1
                if action.startswith("data."):
                    rep.outcomes[outcome] += 1
                    owner = json.loads(detail).get("owner_city")
                    if owner:
                        rep.by_city[owner] += 1
                    rep.by_unit[unit or "—"] += 1
                    rep.by_purpose[purpose or "—"] += 1
                    rep.by_user[username or "—"] += 1
                elif action.startswith("access."):
                    rep.decisions[f"{action.split('.', 1)[1]}:{outcome}"] += 1
                elif action == "auth.sign_in":
                    rep.sign_ins[outcome] += 1
    a = alarms.alarms.c
    with audit.engine.connect() as conn:
        for rule, status in conn.execute(select(a.rule, a.status).where(a.at_ms >= start, a.at_ms < end)):
            rep.alarms.setdefault(rule, Counter())[status] += 1
    if verify:
        report = audit.verify()
        rep.verified, rep.verified_records = report.ok, report.records
        rep.problems = [f"[{p.kind}] {p.message}" for p in report.problems[:20]]
    return rep


# -- HTML (inline SVG charts: nothing is fetched) -------------------------------------------


def _bars(title: str, counts: Counter[str], top: int = 16) -> str:
    items = counts.most_common(top)
    if not items:
        return f"<h3>{escape(title)}</h3><p class=empty>无数据 no data</p>"
    peak = max(n for _, n in items)
    row_h, label_w, bar_w = 22, 180, 420
    rows = []
    for i, (label, n) in enumerate(items):
        y = i * row_h
        w = max(1, int(bar_w * n / peak))
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 6}" fill="#1f5fa8"/>'
            f'<text x="{label_w + w + 6}" y="{y + 15}">{n:,}</text>'
        )
    height = row_h * len(items)
    return (
        f"<h3>{escape(title)}</h3><svg role=img aria-label='{escape(title)}' width='{label_w + bar_w + 80}' "
        f"height='{height}' font-size='12'>{''.join(rows)}</svg>"
    )


def _table(head: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def render_html(rep: QuarterReport) -> str:
    verdict = "完整 intact" if rep.verified else "被篡改 TAMPERED"
    alarm_rows = [(rule, sum(c.values()), c["open"], c["confirmed"], c["false_positive"])
                  for rule, c in sorted(rep.alarms.items())]
    parts = [
        f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>审计报告 {rep.quarter}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .6em;text-align:left}"
        ".bad{color:#b00020}.ok{color:#1b7f3b}.empty{color:#777}</style>",
        f"<h1>联防 定期审计报告 Periodic audit report — {rep.quarter}</h1>",
        f"<p>生成时间 generated {escape(rep.generated_at)}; 审计事件 events in the quarter: {rep.events:,}</p>",
        f"<h2>完整性校验 Integrity</h2><p class={'ok' if rep.verified else 'bad'}>{verdict} — "
        f"{rep.verified_records:,} records verified (SM3 chain, HMAC-SM3, SM2 checkpoints)</p>",
        "<ul>" + "".join(f"<li class=bad>{escape(p)}</li>" for p in rep.problems) + "</ul>",
        "<h2>数据访问 Data access</h2>",
        _table(("结果 outcome", "次数 count"), sorted(rep.outcomes.items())),
        _bars("按数据所属城市 by owning city", rep.by_city),
        _bars("按用户单位 by unit", rep.by_unit),
        _bars("按用途 by purpose", rep.by_purpose),
        "<h2>审批 Approvals and refusals</h2>",
        _table(("步骤 step", "次数 count"), sorted(rep.decisions.items())),
        _table(("登录 sign-in", "次数 count"), sorted(rep.sign_ins.items())),
        "<h2>告警 Alarms and their disposition</h2>",
        _table(("规则 rule", "total", "open", "confirmed", "false positive"), alarm_rows),
        _bars("访问量最大的用户 top users by volume", rep.by_user, top=10),
        "</html>",
    ]
    return "\n".join(parts)


# -- PDF (reportlab; Chinese through the built-in STSong-Light CID font) ----------------------


def render_pdf(rep: QuarterReport, path: Path) -> None:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, spaceAfter=8)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=18, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)

    def table(head: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> Table:
        t = Table([list(head), *[[str(c) for c in r] for r in rows]] if rows else [list(head), ["—"] * len(head)])
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7"))]))
        return t

    def chart(counts: Counter[str], top: int = 16) -> Drawing:
        items = counts.most_common(top)[::-1] or [("—", 0)]
        d = Drawing(460, 18 * len(items) + 20)
        bc = HorizontalBarChart()
        bc.x, bc.y, bc.width, bc.height = 120, 10, 320, 18 * len(items)
        bc.data = [[n for _, n in items]]
        bc.categoryAxis.categoryNames = [label for label, _ in items]
        bc.categoryAxis.labels.fontName = font
        bc.categoryAxis.labels.fontSize = 7
        bc.valueAxis.labels.fontSize = 7
        bc.valueAxis.valueMin = 0
        bc.bars[0].fillColor = colors.HexColor("#1f5fa8")
        d.add(bc)
        return d

    alarm_rows = [
        (r, sum(c.values()), c["open"], c["confirmed"], c["false_positive"]) for r, c in sorted(rep.alarms.items())
    ]
    story = [
        Paragraph(f"联防 定期审计报告 Periodic audit report — {rep.quarter}", h1),
        Paragraph(f"生成时间 generated {rep.generated_at}; 审计事件 events: {rep.events:,}", body),
        Paragraph("完整性校验 Integrity", h2),
        Paragraph(("完整 intact" if rep.verified else "被篡改 TAMPERED")
                  + f" — {rep.verified_records:,} records verified", body),
        *[Paragraph(escape(p), body) for p in rep.problems],
        Paragraph("数据访问 Data access", h2),
        table(("结果 outcome", "次数 count"), sorted(rep.outcomes.items())),
        Paragraph("按数据所属城市 by owning city", body), chart(rep.by_city),
        Paragraph("按用户单位 by unit", body), chart(rep.by_unit),
        Paragraph("按用途 by purpose", body), chart(rep.by_purpose),
        Paragraph("审批 Approvals and refusals", h2),
        table(("步骤 step", "次数 count"), sorted(rep.decisions.items())),
        Spacer(1, 6),
        table(("登录 sign-in", "次数 count"), sorted(rep.sign_ins.items())),
        Paragraph("告警 Alarms and their disposition", h2),
        table(("规则 rule", "total", "open", "confirmed", "false positive"), alarm_rows),
        Paragraph("访问量最大的用户 Top users by volume", h2), chart(rep.by_user, top=10),
    ]  # fmt: skip
    SimpleDocTemplate(str(path), pagesize=A4, title=f"lianfang audit report {rep.quarter}").build(story)


__all__ = ["QuarterReport", "ReportError", "build_report", "quarter_bounds", "render_html", "render_pdf"]
