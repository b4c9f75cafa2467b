"""Top-level command groups."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from lianfang.cli import (
    audit_cmd,
    batches_cmd,
    data_cmds,
    demo_cmd,
    ingest_cmd,
    quarantine_cmd,
    records_cmd,
    search_cmd,
    standard_cmd,
    track_cmd,
    users_cmd,
    watch_cmd,
)
from lianfang.cli.common import console, fail, migrated, platform
from lianfang.crypto import KeyFileError, KeyFileMissing


class _Commands(TyperGroup):
    """Every command: a problem with the master key file is one clear line, not a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyFileError as exc:
            missing = isinstance(exc, KeyFileMissing)
            fail(f"{exc}" + (" — create it with `lianfang keys init` (`make demo` does)" if missing else ""))


app = typer.Typer(
    cls=_Commands,
    help="联防 lianfang — provincial public-security data sharing platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(standard_cmd.app, name="standard", help="The unified data standard (治安数据标准).")
app.add_typer(demo_cmd.app, name="demo", help="The synthetic demo province.")
app.add_typer(quarantine_cmd.app, name="quarantine", help="Rejected records: list, show, retry.")
app.add_typer(batches_cmd.app, name="batches", help="Ingestion batches: list, show (interrupted runs to resume).")
app.add_typer(data_cmds.source_app, name="source", help="Check a source file against a mapping.")
app.add_typer(data_cmds.db_app, name="db", help="Database schema.")
app.add_typer(data_cmds.keys_app, name="keys", help="The master key (kept outside the database).")
app.add_typer(audit_cmd.app, name="audit", help="The audit trail: verify, checkpoint, purge.")
app.add_typer(users_cmd.app, name="users", help="Accounts: add, list, disable, enable, reset.")
app.add_typer(users_cmd.tokens_app, name="tokens", help="API tokens for system-to-system calls.")
app.add_typer(records_cmd.app, name="records", help="Stored records: classification.")
app.command("ingest")(ingest_cmd.ingest)
app.command("search")(search_cmd.search)
app.command("track")(track_cmd.track)
app.add_typer(track_cmd.geo_app, name="geo", help="Map layers: import the city boundaries.")
app.add_typer(watch_cmd.app, name="watch", help="Watch lists (布控): add, list, remove, hits.")


def _log_config() -> dict[str, object]:
    """uvicorn's logging, plus the platform's path-only access log (lianfang.access) on the console."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, object] = {**LOGGING_CONFIG}
    loggers = dict(config["loggers"])  # type: ignore[call-overload]
    loggers["lianfang.access"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["loggers"] = loggers
    return config


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default from settings: 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default 8000)."),
    tls: bool = typer.Option(False, "--tls", help="Serve HTTPS (certificates from <var>/tls, made if missing)."),
    client_cert: bool = typer.Option(
        False, "--client-cert", help="With --tls: require a client certificate signed by <var>/tls/ca.pem."
    ),
    workers: int = typer.Option(
        None, min=1, max=64, help="Server processes on the port (default from settings: 1); about one core each."
    ),
) -> None:
    """Serve the web UI and API. Plain HTTP binds to loopback only; beyond it, use --tls."""
    import ssl

    from lianfang.api.app import create_app
    from lianfang.api.server import run as run_server  # live streams end when the server stops
    from lianfang.api.server import run_workers
    from lianfang.crypto.tls import make_tls

    plat = platform()
    plat.ensure_key()
    migrated(plat)
    bind = host or plat.settings.host
    if not tls and bind not in ("127.0.0.1", "::1", "localhost"):
        console.print("[yellow]plain HTTP is for loopback only: add --tls to bind beyond it[/]")
        raise typer.Exit(2)
    if client_cert and not tls:
        console.print("[yellow]--client-cert needs --tls[/]")
        raise typer.Exit(2)
    options: dict[str, object] = {}
    if tls:
        folder = plat.settings.var_dir / "tls"
        if not (folder / "server.pem").exists():
            make_tls(folder, [bind] if bind not in ("0.0.0.0", "::") else [])
            console.print(f"created a demo certificate authority and server/client certificates in {folder}")
        options = {"ssl_certfile": str(folder / "server.pem"), "ssl_keyfile": str(folder / "server.key")}
        if client_cert:
            options |= {"ssl_ca_certs": str(folder / "ca.pem"), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    scheme = "https" if tls else "http"
    processes = workers or plat.settings.workers
    app = create_app(plat)
    # a bulk load that died leaves its table's secondary indexes to be built (store/indexes.py)
    app.state.ingestor.on_index = lambda index, table: console.print(f"building index {index} on {table} …")
    app.state.ingestor.restore_indexes()
    where = f"{scheme}://{bind}:{port or plat.settings.port}/"
    options |= {"host": bind, "port": port or plat.settings.port, "log_level": "info", "access_log": False,
                "log_config": _log_config()}
    if processes == 1:
        console.print(f"serving {where}")
        run_server(app, **options)
        return
    plat.close()  # each worker process builds its own platform from the same settings
    console.print(f"serving {where} with {processes} worker processes")
    try:
        run_workers(processes, **options)
    except OSError as exc:
        fail(f"cannot listen on {bind}:{options['port']}: {exc.strerror or exc}")
