"""``lianfang users add|list|disable|enable|reset`` and ``lianfang tokens create|revoke``.

Administrative actions are audited (action ``admin.*``, client ``cli:<os user>``).
New and reset credentials are printed once and stored only as hashes/ciphertext.
"""

from __future__ import annotations

import time

import typer
from rich.table import Table

from lianfang.cli.common import audit_cli, console, fail, migrated, platform
from lianfang.identity import Credentials, DirectoryError
from lianfang.identity.tokens import SCOPES

app = typer.Typer(no_args_is_help=True)
tokens_app = typer.Typer(no_args_is_help=True)


def _now() -> int:
    return int(time.time() * 1000)


def _show(cred: Credentials) -> None:
    console.print(f"user 用户: [bold]{cred.username}[/]")
    console.print(f"initial password 初始密码 (change at first sign-in): [bold]{cred.password}[/]")
    console.print(f"TOTP secret 动态口令密钥: [bold]{cred.totp_secret}[/]")
    console.print(f"enrol 绑定: {cred.totp_uri}")
    console.print("[yellow]shown once 仅显示一次[/]: neither is stored in clear")


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Sign-in name: lower-case letters, digits, _ . -"),
    name: str = typer.Option(..., "--name", help="Display name."),
    unit: str = typer.Option(..., "--unit", help="6-digit division code of the user's unit."),
    unit_name: str = typer.Option("", "--unit-name", help="The unit's name."),
    role: list[str] = typer.Option(..., "--role", help="A role (repeatable)."),
    top_secret: bool = typer.Option(False, "--top-secret", help="Cleared for top-secret work (15-minute idle)."),
) -> None:
    """Create an account; prints its one-time password and TOTP secret."""
    plat = platform()
    migrated(plat)
    try:
        cred = plat.directory.add(
            username, display_name=name, unit_code=unit, unit_name=unit_name, roles=role,
            cleared_top_secret=top_secret, now_ms=_now(),
        )  # fmt: skip
    except DirectoryError as exc:
        fail(str(exc))
    user = plat.directory.get(username)
    assert user is not None
    audit_cli(plat, "admin.user_add", "ok", (f"user:{user.id}",), roles=sorted(r.value for r in user.roles), unit=unit)
    _show(cred)


@app.command("list")
def list_(
    unit: str = typer.Option("", "--unit", help="Only units whose code starts with this."),
    role: str = typer.Option(None, "--role", help="Only users with this role."),
) -> None:
    """List accounts with their units, roles and state."""
    plat = platform()
    migrated(plat)
    table = Table("user 用户", "name 姓名", "unit 单位", "roles 角色", "state 状态")
    for u in plat.directory.list(unit_prefix=unit, role=role):
        state = u.status if u.locked_until <= _now() else "locked"
        roles = ", ".join(f"{r.value} {r.label_zh}" for r in sorted(u.roles))
        table.add_row(u.username, u.display_name, f"{u.unit_code} {u.unit_name}", roles, state)
    console.print(table)


@app.command("disable")
def disable(username: str) -> None:
    """Disable an account and end its sessions at once."""
    plat = platform()
    migrated(plat)
    try:
        user = plat.directory.disable(username, now_ms=_now())
    except DirectoryError as exc:
        fail(str(exc))
    audit_cli(plat, "admin.user_disable", "ok", (f"user:{user.id}",))
    console.print(f"{username}: disabled 已停用; sessions ended")


@app.command("enable")
def enable(username: str) -> None:
    """Re-enable a disabled account (and clear a lock)."""
    plat = platform()
    migrated(plat)
    try:
        user = plat.directory.enable(username)
    except DirectoryError as exc:
        fail(str(exc))
    audit_cli(plat, "admin.user_enable", "ok", (f"user:{user.id}",))
    console.print(f"{username}: active 已启用")


@app.command("reset")
def reset(username: str) -> None:
    """New one-time password and TOTP secret; unlocks; ends the account's sessions."""
    plat = platform()
    migrated(plat)
    try:
        cred = plat.directory.reset(username, now_ms=_now())
    except DirectoryError as exc:
        fail(str(exc))
    user = plat.directory.get(username)
    assert user is not None
    audit_cli(plat, "admin.user_reset", "ok", (f"user:{user.id}",))
    _show(cred)


@tokens_app.command("create")
def create_token(
    username: str = typer.Argument(..., help="The account the token acts as (policy applies to it)."),
    name: str = typer.Option(..., "--name", help="What the token is for."),
    scope: list[str] = typer.Option(..., "--scope", help=f"Repeatable; one of: {', '.join(sorted(SCOPES))}."),
    days: int = typer.Option(90, "--days", help="Days until it expires (1–365)."),
) -> None:
    """Create an API token for system-to-system calls; printed once."""
    plat = platform()
    migrated(plat)
    try:
        tok, secret = plat.tokens.create(username, name, set(scope), days=days, now_ms=_now())
    except DirectoryError as exc:
        fail(str(exc))
    audit_cli(plat, "admin.token_create", "ok", (f"token:{tok.id}",), scopes=sorted(tok.scopes), days=days)
    console.print(f"token {tok.id} for {username}, scopes {', '.join(sorted(tok.scopes))}, {days} days:")
    console.print(f"[bold]{secret}[/]")
    console.print("[yellow]shown once 仅显示一次[/]: send it as 'Authorization: Bearer <token>'")


@tokens_app.command("revoke")
def revoke_token(token_id: int) -> None:
    """Revoke an API token with immediate effect."""
    plat = platform()
    migrated(plat)
    if not plat.tokens.revoke(token_id, now_ms=_now()):
        fail(f"no live token {token_id}")
    audit_cli(plat, "admin.token_revoke", "ok", (f"token:{token_id}",))
    console.print(f"token {token_id} revoked 已吊销")


@app.command("identity")
def identity(username: str) -> None:
    """Register a user's own citizen ID, surname and registered address — as blind indexes only.

    The values are typed at hidden prompts (never on the command line, where the process
    list would show them) and only their HMAC-SM3 digests are stored, so that looking up
    oneself or one's family raises an alarm.
    """
    from lianfang.crypto import BlindIndex
    from lianfang.standard.types import VALUE_TYPES, Context, InvalidValue

    plat = platform()
    migrated(plat)
    if plat.directory.get(username) is None:
        fail(f"no user {username!r}")
    raw_id = typer.prompt("公民身份号码 citizen ID", hide_input=True)
    name = typer.prompt("姓名 name", hide_input=True)
    address = typer.prompt("户籍地址 registered address", hide_input=True)
    field = plat.standard.category("person").field("citizen_id")
    normalise = VALUE_TYPES["citizen_id"].compile(field, None, Context(tz=plat.tz))
    try:
        citizen_id = str(normalise(raw_id.strip()))
    except InvalidValue as exc:
        fail(f"citizen ID: {exc.code}")
    plat.directory.set_identity(username, BlindIndex(plat.keyring), citizen_id=citizen_id, name=name,
                                address=address)
    user = plat.directory.get(username)
    assert user is not None
    audit_cli(plat, "admin.user_identity", "ok", (f"user:{user.id}",))
    console.print(f"{username}: identity digests stored (self and family lookups will raise alarms)")
