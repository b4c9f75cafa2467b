"""``lianfang audit verify|checkpoint|purge`` — the integrity of the audit trail (全程留痕)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from lianfang.audit import RetentionError
from lianfang.audit.checkpoint import Checkpoint, export_checkpoint, read_checkpoint
from lianfang.cli.common import audit_cli, console, fail, migrated, platform

app = typer.Typer(no_args_is_help=True)


def _time(ms: int, tz: object) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=tz).strftime("%Y-%m-%d %H:%M:%S %Z")  # type: ignore[arg-type]


@app.command("verify")
def verify(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", "-c", help="An exported checkpoint file to check against (repeatable)."
    ),
) -> None:
    """Check every record's SM3 link and MAC, and every signed checkpoint. Exit 1 on any problem."""
    plat = platform()
    migrated(plat)
    exported: list[Checkpoint] = []
    for path in checkpoint:
        try:
            exported.append(read_checkpoint(path))
        except ValueError as exc:
            fail(str(exc))
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("校验审计链 verifying the trail …")
        report = plat.audit.verify(
            exported, progress=lambda n: bar.update(task, description=f"校验审计链 verifying … {n:,} records")
        )
    span = f"{report.first_seq}–{report.last_seq}" if report.records else "none"
    console.print(f"records 记录: {report.records:,} (seq {span}); checkpoints 签名检查点: {report.checkpoints}")
    console.print(f"head 链头: {report.head_hash.hex()}")
    if report.ok:
        console.print("[bold green]完整 intact[/]: every link, MAC and signature verifies")
        return
    console.print(f"[bold red]被篡改 TAMPERED[/]: {len(report.problems)} problem(s)")
    for p in report.problems[:50]:
        console.print(f"  {escape(f'[{p.kind}]')} {p.message}")
    if len(report.problems) > 50:
        console.print(f"  … and {len(report.problems) - 50} more")
    raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(
    export: Path = typer.Option(None, "--export", "-o", help="Also write the checkpoint to this JSON file."),
) -> None:
    """Sign the trail's current head with SM2 and store it (and export it, to keep elsewhere)."""
    plat = platform()
    migrated(plat)
    cp = plat.audit.checkpoint()
    console.print(f"checkpoint 检查点 at seq {cp.seq}, {_time(cp.at_ms, plat.tz)}: {cp.hash.hex()}")
    if export is not None:
        export_checkpoint(cp, export)
        console.print(f"exported to {export} — keep it where the database's administrators cannot write")


@app.command("purge")
def purge(
    before: str = typer.Option(..., help="Delete records before this date (YYYY-MM-DD, Asia/Shanghai)."),
    yes: bool = typer.Option(False, "--yes", help="Do it (otherwise only say what would happen)."),
) -> None:
    """Delete audit records older than the retention period (at least one year), leaving a signed anchor."""
    plat = platform()
    migrated(plat)
    try:
        cut = datetime.strptime(before, "%Y-%m-%d").replace(tzinfo=plat.tz)
    except ValueError:
        fail(f"--before: expected YYYY-MM-DD, got {before!r}")
    if not yes:
        console.print(f"would delete audit records before {cut:%Y-%m-%d} if outside retention; add --yes to do it")
        return
    try:
        deleted, anchor = plat.audit.purge(int(cut.timestamp() * 1000))
    except RetentionError as exc:
        fail(str(exc))
    if anchor is None:
        console.print("nothing to purge")
    else:
        console.print(f"deleted {deleted:,} records up to seq {anchor.seq}; signed purge anchor stored")


@app.command("alarms")
def alarms(
    status: str = typer.Option("open", help="open, confirmed, false_positive or all."),
    rule: str = typer.Option(None, help="Only this rule."),
    limit: int = typer.Option(100, help="At most this many, newest first."),
) -> None:
    """Alarms on abnormal operations, with their evidence (异常操作告警)."""
    import json

    from rich.table import Column, Table

    plat = platform()
    migrated(plat)
    rows = plat.alarms.list(status=None if status == "all" else status, rule=rule, limit=limit)
    # the time and the rule are never cut short on a narrow terminal; the evidence wraps instead
    table = Table("id", Column("time 时间", no_wrap=True), Column("rule 规则", no_wrap=True), "severity", "user",
                  "subject", Column("evidence 证据", overflow="fold"), "status")
    for a in rows:
        table.add_row(
            str(a["id"]), _time(int(a["at_ms"]), plat.tz), a["rule"], a["severity"], str(a["user_id"] or ""),
            a["subject"] or "", escape(json.dumps(a["evidence"], ensure_ascii=False)), a["status"],
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} alarm(s)")


@app.command("dispose")
def dispose(
    alarm_id: int,
    as_: str = typer.Option(..., "--as", help="confirmed or false_positive."),
    note: str = typer.Option(..., "--note", help="What was found."),
) -> None:
    """Record an auditor's disposition of an open alarm (audited)."""
    import time

    plat = platform()
    migrated(plat)
    try:
        done = plat.alarms.dispose(alarm_id, status=as_, note=note, by_user=None, at_ms=int(time.time() * 1000))
    except ValueError as exc:
        fail(str(exc))
    if not done:
        fail(f"no open alarm {alarm_id}")
    audit_cli(plat, "audit.alarm_dispose", as_, (f"alarm:{alarm_id}",))
    console.print(f"alarm {alarm_id}: {as_}")


@app.command("report")
def report(
    quarter: str = typer.Option(..., "--quarter", help="The quarter, e.g. 2026Q3."),
    out: Path = typer.Option(Path("."), "--out", help="Folder for report-<quarter>.html and .pdf."),
) -> None:
    """The periodic audit report (定期审计) for one quarter: HTML and PDF, with charts."""
    from lianfang.audit.report import ReportError, build_report, render_html, render_pdf

    plat = platform()
    migrated(plat)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
        bar.add_task(f"汇总 {quarter} 审计记录并校验完整性 counting and verifying …")
        try:
            rep = build_report(plat.audit, plat.alarms, quarter, plat.tz)
        except ReportError as exc:
            fail(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / f"report-{rep.quarter}.html"
    pdf_path = out / f"report-{rep.quarter}.pdf"
    html_path.write_text(render_html(rep), encoding="utf-8")
    render_pdf(rep, pdf_path)
    console.print(f"{rep.events:,} events in {rep.quarter}; integrity {'intact' if rep.verified else 'TAMPERED'}")
    console.print(f"written: {html_path} and {pdf_path}")
