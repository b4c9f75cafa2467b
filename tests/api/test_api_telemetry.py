"""No request leaves through FastAPI's OpenTelemetry hooks, even where the process has a tracer and
the environment asks FastAPI to configure exporters.

In a process of its own: a global tracer provider can be set once per process.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

FreshProcess = Callable[..., dict[str, object]]  # the fixture in tests/api/conftest.py

_PROBE = textwrap.dedent("""
    import json, sys
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, INVALID_SPAN_CONTEXT, TracerProvider, Tracer

    started = []

    class RecordingTracer(Tracer):
        def start_span(self, name, *args, **kwargs):
            started.append(name)
            return NonRecordingSpan(INVALID_SPAN_CONTEXT)

        def start_as_current_span(self, name, *args, **kwargs):
            started.append(name)
            return trace.use_span(NonRecordingSpan(INVALID_SPAN_CONTEXT))

    class RecordingProvider(TracerProvider):
        def get_tracer(self, *args, **kwargs):
            return RecordingTracer()

    trace.set_tracer_provider(RecordingProvider())

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    if sys.argv[1] == "bare":  # what FastAPI does by default, to show the probe sees spans
        app = FastAPI()
        app.get("/health")(lambda: {"status": "ok"})
    else:
        from lianfang.api.app import create_app
        from lianfang.platform import Platform
        from lianfang.settings import Settings
        app = create_app(Platform(Settings()))
    with TestClient(app) as client:
        status = client.get("/health").status_code
    print(json.dumps({"status": status, "spans": started}))
""")
_AUTO = {"FASTAPI_OTEL_AUTO_CONFIGURE": "true"}  # FastAPI would add exporters from the environment


def test_fastapi_would_trace_a_request_by_default(fresh_process: FreshProcess) -> None:
    seen = fresh_process(_PROBE, "bare", env=_AUTO)
    assert seen["status"] == 200
    assert seen["spans"]  # the probe works: an app left as FastAPI makes it reports requests


def test_the_platform_reports_no_request_to_a_tracer(fresh_process: FreshProcess) -> None:
    seen = fresh_process(_PROBE, "lianfang", env=_AUTO)
    assert seen["status"] == 200
    assert seen["spans"] == []
