"""``lianfang demo generate``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from lianfang.cli.common import console, fail, migrated

app = typer.Typer(no_args_is_help=True)


@app.command("generate")
def generate(
    out: Path = typer.Option(..., help="Output directory."),
    seed: int = typer.Option(7, help="Random seed (same seed, same bytes)."),
    scale: str = typer.Option("small", help="tiny, small, medium or large."),
) -> None:
    """Write what 16 cities' legacy systems would export, plus manifest.json (the ground truth)."""
    from lianfang import demo

    if scale not in demo.SCALES:
        fail(f"unknown scale {scale!r}; choose one of {', '.join(demo.SCALES)}")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        manifest = demo.generate(out, seed=seed, scale=scale, progress=progress)
    console.print(f"[green]demo province written to {out}[/] ({len(manifest.files)} files)")


DEMO_PASSWORD = "Lianfang-Demo-2026"


def _secrets_file() -> Path:
    from lianfang.settings import Settings

    return Settings().var_dir / "demo-users.tsv"


def _read_secrets(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        name, *_rest, secret = line.split("\t")
        out[name] = secret
    return out


@app.command("users")
def users() -> None:
    """Create the demo staff across the 16 cities (idempotent) and show how to sign in as each role.

    Demo accounts share one password; each has its own TOTP secret, kept in
    <var>/demo-users.tsv (mode 0600) so that `lianfang demo code USER` can show the
    current code. Never use demo accounts outside a demo.
    """
    import os
    import time

    from rich.table import Table

    from lianfang.cli.common import platform
    from lianfang.demo.staff import demo_staff
    from lianfang.identity import DirectoryError

    plat = platform()
    migrated(plat)
    path = _secrets_file()
    secrets = _read_secrets(path)
    created = 0
    specs = demo_staff()
    for spec in specs:
        existing = plat.directory.get(spec.username)
        if existing is not None and spec.username in secrets:
            continue
        try:
            if existing is None:
                cred = plat.directory.add(
                    spec.username, display_name=spec.display_name, unit_code=spec.unit_code,
                    unit_name=spec.unit_name, roles=spec.roles, cleared_top_secret=spec.cleared_top_secret,
                    now_ms=int(time.time() * 1000), password=DEMO_PASSWORD,
                )  # fmt: skip
            else:  # the secrets file was lost: new credentials, back to the demo password
                cred = plat.directory.reset(spec.username, now_ms=int(time.time() * 1000))
                plat.directory.change_password(spec.username, cred.password, DEMO_PASSWORD)
        except DirectoryError as exc:
            fail(f"{spec.username}: {exc}")
        secrets[spec.username] = cred.totp_secret
        created += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["username\trole\tunit\ttotp_secret"] + [
        f"{s.username}\t{','.join(s.roles)}\t{s.unit_code}\t{secrets[s.username]}"
        for s in specs
        if s.username in secrets
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    table = Table("role 角色", "sign in as 用户名", "unit 单位")
    shown: set[str] = set()
    for s in specs:
        if s.roles[0] in shown and not s.username.startswith(("bj_", "yz_")):
            continue
        shown.add(s.roles[0])
        table.add_row(s.roles[0], s.username, f"{s.unit_code} {s.unit_name}")
    console.print(table)
    console.print(f"{len(specs)} demo accounts ({created} new); password 密码: [bold]{DEMO_PASSWORD}[/]")
    console.print("second factor 动态口令: [bold]lianfang demo code <username>[/] (demo only)")


@app.command("code")
def code(username: str) -> None:
    """The current TOTP code of a demo account (from the demo's secrets file; demo only)."""
    import time

    from lianfang.identity.totp import code_at

    secret = _read_secrets(_secrets_file()).get(username)
    if secret is None:
        fail(f"{username!r} is not a demo account made by `lianfang demo users`")
    remaining = 30 - int(time.time()) % 30
    console.print(f"{code_at(secret, time.time())}  (valid {remaining}s more)")


@app.command("traffic")
def traffic(
    days: int = typer.Option(14, help="Calendar days of ordinary use to replay (working days only)."),
    seed: int = typer.Option(11),
) -> None:
    """Replay ordinary use by the demo staff into the audit trail and report the alarms it raises.

    Needs the ingested demo province (persons and cases) and `lianfang demo users`.
    The figure printed is the false-alarm rate of the rules on ordinary traffic.
    """
    from collections import Counter
    from datetime import datetime

    from sqlalchemy import func, select

    from lianfang.cli.common import platform
    from lianfang.demo.traffic import normal_traffic

    plat = platform()
    migrated(plat)
    persons_t, cases_t = plat.metadata.tables["rec_person"], plat.metadata.tables["rec_case"]
    with plat.engine.connect() as conn:
        persons = [(int(i), str(c)) for i, c in conn.execute(select(persons_t.c.id, persons_t.c.city_code))]
        cases = [str(c) for (c,) in conn.execute(select(cases_t.c.case_no).where(cases_t.c.case_no.is_not(None)))]
        last_alarm = conn.execute(select(func.max(plat.alarms.alarms.c.id))).scalar() or 0
    staff = [u for u in plat.directory.list() if u.active]
    if not persons or not cases or not staff:
        fail("ingest the demo province and run `lianfang demo users` first")
    events = list(normal_traffic(staff, persons, cases, end=datetime.now(plat.tz), days=days, tz=plat.tz, seed=seed))
    for i in range(0, len(events), 2000):
        plat.audit.append(events[i : i + 2000])
    plat.alarm_worker.drain()
    raised = [a for a in plat.alarms.list(status=None, limit=1_000_000) if int(a["id"]) > last_alarm]
    by_rule = Counter(str(a["rule"]) for a in raised)
    user_days = len({(e.user_id, e.at_ms // 86_400_000) for e in events})
    console.print(f"{len(events):,} events by {len(staff)} staff over {days} days ({user_days:,} user-days)")
    console.print(f"alarms raised 告警: {len(raised)} — {dict(by_rule) or 'none'}")
    console.print(f"false-alarm rate: {len(raised) / max(1, user_days):.2%} of user-days, "
                  f"{len(raised) / max(1, len(events)):.3%} of events")
