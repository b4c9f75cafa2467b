"""Every page and form of the web UI, fed what its parameters allow and what they do not: never a server error.

The pages are left out of ``/openapi.json`` (they are not an API), so the test builds a schema of their
routes alone and lets schemathesis generate requests from it, valid and invalid, signed in as a web user
(session cookie; the form's CSRF token set in every form it posts, so that posts reach their own checks).
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

import pytest
import schemathesis
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from lianfang.api.app import create_app
from lianfang.api.security import SESSION_COOKIE
from lianfang.identity.totp import code_at
from lianfang.platform import Platform

pytestmark = pytest.mark.xdist_group("fuzz_web")

#: pages that stream until the client leaves, or end the session the test signs in with
_SKIP = {"/watch/stream", "/sign-out"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "Test-Password-2026"


def form_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def _signed_in(province: Platform, roles: list[str]) -> tuple[Any, dict[str, str], str]:
    name = f"wf_{roles[0][:6]}_{time.time_ns()}"
    cred = province.directory.add(name, display_name=name, unit_code="360102", unit_name="滨江", roles=roles,
                                  now_ms=int(time.time() * 1000), password=PASSWORD)
    app = create_app(province)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = form_token(client.get("/sign-in").text)
    res = client.post("/sign-in", data={"username": name, "password": PASSWORD,
                                        "code": code_at(cred.totp_secret, time.time()), "csrf_token": token})
    assert res.status_code == 303, res.text
    csrf = form_token(client.get("/").text)
    pages = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.route
        if (isinstance(route, APIRoute) and not route.include_in_schema and ctx.path not in _SKIP
                and not ctx.path.startswith(("/api/", "/VIID/", "/docs", "/_"))):
            page = copy.copy(route)  # the routers are the app's own: the copy is the one shown
            page.include_in_schema = True
            pages.append(page)
    raw = get_openapi(title="pages", version="1", routes=pages)
    app.add_api_route("/_pages.json", lambda: raw, include_in_schema=False)
    return schemathesis.openapi.from_asgi("/_pages.json", app), {SESSION_COOKIE: client.cookies[SESSION_COOKIE]}, csrf


@pytest.mark.parametrize("roles", [["investigator", "steward"], ["city_approver"], ["auditor"]],
                         ids=["investigator", "approver", "auditor"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_page_answers_with_a_server_error(province: Platform, mode: GenerationMode, roles: list[str]) -> None:
    schema, cookies, csrf = _signed_in(province, roles)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    failures: list[str] = []
    for op in operations:

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            if isinstance(case.body, dict):  # a form: its CSRF token is the session's, so it reaches its checks
                case.body["csrf_token"] = csrf
            response = case.call(cookies=cookies, base_url="https://testserver")
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"

        try:
            call()
        except Unsatisfiable:  # nothing to make invalid: a page without parameters
            pass
        except Exception as exc:  # collect every page's failure, not only the first
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:400]}")
    assert not failures, "\n".join(failures)
