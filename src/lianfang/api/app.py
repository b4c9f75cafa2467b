"""Application factory: one app object built from a :class:`Platform`."""

from __future__ import annotations

from fastapi import FastAPI

from lianfang import __version__
from lianfang.api.routes import access, audit, auth, health, ingestion, quarantine, records, standard
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform


def create_app(platform: Platform) -> FastAPI:
    app = FastAPI(
        title="lianfang 联防 API",
        version=__version__,
        description="Provincial public-security data sharing platform.",
    )
    app.state.platform = platform
    app.state.ingestor = Ingestor(
        engine=platform.engine,
        standard=platform.standard,
        keyring=platform.keyring,
        settings=platform.settings,
        mappings=platform.mappings,
    )
    app.include_router(health.router)
    app.include_router(standard.router, prefix="/api/v1")
    app.include_router(ingestion.router, prefix="/api/v1")
    app.include_router(quarantine.router, prefix="/api/v1")
    app.include_router(auth.router, prefix="/api/v1")
    app.include_router(access.router, prefix="/api/v1")
    app.include_router(records.router, prefix="/api/v1")
    app.include_router(audit.router, prefix="/api/v1")
    return app
