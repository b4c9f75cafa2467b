"""Application factory: one app object built from a :class:`Platform`."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.exc import DataError
from starlette.types import Scope

from lianfang import __version__
from lianfang.api.hit_bell import HitBell
from lianfang.api.middleware import ResponseGuard, is_api_path
from lianfang.api.responses import OrjsonResponse
from lianfang.api.routes import (
    access,
    audit,
    auth,
    geo,
    health,
    ingestion,
    quarantine,
    records,
    search,
    standard,
    tracks,
    viid,
    watch,
)
from lianfang.api.security import audit_down
from lianfang.audit import AuditEventRefused, AuditUnavailable
from lianfang.identity.passwords import dummy_hash
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform
from lianfang.standard.phonetic import phonetic_key
from lianfang.web import routes as web_routes
from lianfang.web.i18n import texts
from lianfang.web.page import lang_for, render

log = logging.getLogger(__name__)


async def _audit_unavailable(request: Request, exc: Exception) -> Response:
    """Fail closed on every path: whatever a request did not catch, a trail that cannot be written is a 503
    (the routes that read data answer the same themselves), never a 500 that looks like a bug."""
    message = str(audit_down().detail)
    if is_api_path(request.url.path):
        return JSONResponse({"detail": message}, status_code=503)
    return PlainTextResponse(message, status_code=503)


async def _audit_event_refused(request: Request, exc: Exception) -> Response:
    """The request's own text cannot go into the audit trail as it is (a citizen ID typed as the case
    number, a lone surrogate): no audit record, no answer — a 400 that says why, not a 500. The message
    never repeats the value."""
    if is_api_path(request.url.path):
        message = f"请求内容无法记入审计，拒绝访问 the request cannot be recorded in the audit trail: {exc}"
        return JSONResponse({"detail": message}, status_code=400)
    t = texts(lang_for(request))
    return render(request, "error.html", status=400, title=t["err_invalid"], message=t["err_unrecordable"])


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """422 as FastAPI words it, less each error's ``input``: the rejected value goes back to nobody (it may be
    personal data, and a value with no UTF-8 form — a lone surrogate from a JSON escape — made the answer
    itself fail with a 500)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    if not is_api_path(request.url.path):  # a page: the error page in the user's language, naming the fields
        t = texts(lang_for(request))
        fields = ", ".join(dict.fromkeys(str(e.get("loc", ("?",))[-1]) for e in errors))
        return render(request, "error.html", status=422, title=t["err_invalid"], message=f"{t['err_fields']} {fields}")
    return JSONResponse(
        {"detail": [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errors]},
        status_code=422,
    )


def _nul_page(scope: Scope) -> Response:
    """The error page for a page's URL holding NUL (``scope``: the request's, without its path and query)."""
    request = Request(scope)
    t = texts(lang_for(request))
    return render(request, "error.html", status=400, title=t["err_invalid"], message=t["err_nul_url"])


async def _unstorable_value(request: Request, exc: Exception) -> Response:
    """A value of the request the database refuses as data (PostgreSQL's class 22: a NUL character in text,
    a number out of range): the request is at fault, so a 400, not a 500. The message names no value."""
    log.warning("%s %s: a value the database refuses (%s)", request.method, request.url.path,
                type(getattr(exc, "orig", exc)).__name__)
    if is_api_path(request.url.path):
        message = "请求中含有数据库不能保存的值 the request holds a value that cannot be stored (a NUL character?)"
        return JSONResponse({"detail": message}, status_code=400)
    t = texts(lang_for(request))
    return render(request, "error.html", status=400, title=t["err_invalid"], message=t["err_unstorable"])


#: FastAPI's OpenTelemetry hooks, all off whatever the environment says: spans would carry routes with
#: plates in them, and its exception logs carry messages and tracebacks that may quote what a request
#: held. Nothing of a request leaves the platform except through its own audit trail and access log.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                                 "auto_configure": False}


def create_app(platform: Platform) -> FastAPI:
    app = FastAPI(
        title="lianfang 联防 API",
        version=__version__,
        description="Provincial public-security data sharing platform.",
        docs_url=None,  # served below from vendored assets: the default pulls Swagger UI from a CDN
        redoc_url=None,
        default_response_class=OrjsonResponse,
        telemetry=NO_TELEMETRY,
    )
    app.state.platform = platform
    dummy_hash()  # made now, so that the first unknown user name takes as long as any other
    phonetic_key("张伟")  # pinyin's dictionaries load now (0.2 s), not during the first name search
    app.state.stopping = threading.Event()  # set when the server stops: live streams end (api/server.py)
    # live hit streams wait on it: one look for new hits per poll interval for the whole process
    app.state.hit_bell = HitBell(platform.watch.hits.newest_id, platform.settings.watch_poll_ms / 1000)
    app.state.ingestor = Ingestor(
        engine=platform.engine,
        standard=platform.standard,
        keyring=platform.keyring,
        settings=platform.settings,
        mappings=platform.mappings,
        on_stored=platform.watch.matcher,  # new sightings are matched against the watch lists
        metadata=platform.metadata,
    )
    # the busiest routes first: a request is matched against the routes in this order
    app.include_router(search.router, prefix="/api/v1")
    app.include_router(tracks.router, prefix="/api/v1")
    app.include_router(health.router)
    app.include_router(standard.router, prefix="/api/v1")
    app.include_router(ingestion.router, prefix="/api/v1")
    app.include_router(quarantine.router, prefix="/api/v1")
    app.include_router(auth.router, prefix="/api/v1")
    app.include_router(access.router, prefix="/api/v1")
    app.include_router(records.router, prefix="/api/v1")
    app.include_router(geo.router, prefix="/api/v1")
    app.include_router(audit.router, prefix="/api/v1")
    app.include_router(watch.router, prefix="/api/v1")
    app.include_router(viid.router)  # GA/T 1400 checkpoint pushes, at the path the standard names
    app.include_router(web_routes.router)
    for exc_class, handler in web_routes.EXCEPTION_HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    app.add_exception_handler(AuditUnavailable, _audit_unavailable)
    app.add_exception_handler(AuditEventRefused, _audit_event_refused)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DataError, _unstorable_value)

    @app.get("/docs", include_in_schema=False)
    def api_explorer() -> HTMLResponse:
        vendor = "/static/vendor/swagger-ui"
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="lianfang 联防 API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
        )

    app.mount("/static", StaticFiles(directory=Path(web_routes.__file__).with_name("static")), name="static")

    app.add_middleware(ResponseGuard, nul_page=_nul_page)  # security headers and the access log, on every answer
    return app
