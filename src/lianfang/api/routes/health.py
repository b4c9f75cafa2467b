"""Liveness and readiness."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from lianfang.api.deps import PlatformDep
from lianfang.store.engine import alembic_config

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
def ready(plat: PlatformDep) -> JSONResponse:
    """Ready to serve: database reachable, schema at the newest revision, master key loaded."""
    checks: dict[str, str] = {}
    try:
        with plat.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(str(plat.engine.url))).get_current_head()
        checks["database"] = "ok"
        checks["schema"] = "ok" if current == head else f"at {current}, expected {head}"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"unavailable ({exc.__class__.__name__})"
    try:
        _ = plat.keyring.current
        checks["keys"] = "ok"
    except Exception as exc:
        checks["keys"] = f"unavailable ({exc.__class__.__name__})"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503
    )
