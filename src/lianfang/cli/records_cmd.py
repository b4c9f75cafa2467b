"""``lianfang records classify`` — raise a record's classification (a protected witness, say)."""

from __future__ import annotations

import base64

import typer

from lianfang.access.records import RecordHidden, classify
from lianfang.cli.common import audit_cli, console, fail, migrated, platform
from lianfang.standard.levels import parse_level

app = typer.Typer(no_args_is_help=True)


@app.command("classify")
def classify_cmd(
    category: str,
    record_id: int,
    level: str = typer.Argument(..., help="public, internal, sensitive or top_secret."),
    reason: str = typer.Option(..., "--reason", help="Why; SM4-encrypted in the audit trail."),
) -> None:
    """Raise one record above its category's default level, or bring it back to the default (audited)."""
    plat = platform()
    migrated(plat)
    try:
        before, after = classify(plat.engine, plat.metadata, plat.standard, category, record_id, parse_level(level))
    except (RecordHidden, ValueError) as exc:
        fail(str(exc))
    sealed = base64.b64encode(plat.cipher.encrypt("audit.note", reason.strip())).decode()
    audit_cli(plat, "admin.classify", "ok", (f"{category}:{record_id}",), before=before.value, after=after.value,
              reason_enc=sealed)
    console.print(f"{category} {record_id}: {before.value} → {after.value}")
