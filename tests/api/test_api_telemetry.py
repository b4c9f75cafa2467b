"""No request leaves through FastAPI's OpenTelemetry hooks, even where the process has a tracer and
the environment asks FastAPI to configure exporters.

In a process of its own: a global tracer provider can be set once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from lianfang.platform import Platform

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


def _probe(platform: Platform, mode: str) -> dict[str, object]:
    s = platform.settings
    env = {**os.environ, "LIANFANG_VAR_DIR": str(s.var_dir), "LIANFANG_DATABASE_URL": s.resolved_database_url(),
           "LIANFANG_KEY_FILE": str(s.resolved_key_file()), "FASTAPI_OTEL_AUTO_CONFIGURE": "true"}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, timeout=120,
                         check=True)
    seen: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return seen


def test_fastapi_would_trace_a_request_by_default(platform: Platform) -> None:
    seen = _probe(platform, "bare")
    assert seen["status"] == 200
    assert seen["spans"]  # the probe works: an app left as FastAPI makes it reports requests


def test_the_platform_reports_no_request_to_a_tracer(platform: Platform) -> None:
    seen = _probe(platform, "lianfang")
    assert seen["status"] == 200
    assert seen["spans"] == []
