"""Every page and form of the web UI, fed what its parameters allow and what they do not: never a server error.

The pages are left out of ``/openapi.json`` (they are not an API), so the test builds a schema of their
routes alone and lets schemathesis generate requests from it, valid and invalid, signed in as a web user
(session cookie; the form's CSRF token set in every form it posts, so that posts reach their own checks).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from schemathesis.generation import GenerationMode

from lianfang.api.security import SESSION_COOKIE
from lianfang.platform import Platform

pytestmark = pytest.mark.xdist_group("fuzz_web")

#: pages that stream until the client leaves, or end the session the test signs in with
_SKIP = {"/watch/stream", "/sign-out"}


@pytest.fixture
def platform(province: Platform) -> Platform:
    """The pages are fed on the demo province (records to find), through ``web_user``'s sign-in."""
    return province


def _pages_schema(app: FastAPI) -> Any:
    """A schema of the app's pages alone, served by ``app`` for schemathesis to read."""
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
    return schemathesis.openapi.from_asgi("/_pages.json", app)


@pytest.mark.parametrize("roles", [["investigator", "steward"], ["city_approver"], ["auditor"]],
                         ids=["investigator", "approver", "auditor"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_page_answers_with_a_server_error(app: FastAPI, web_user: Any, mode: GenerationMode, roles: list[str],
                                             server_errors: Any) -> None:
    user = web_user(f"wf_{roles[0][:6]}_{mode.value}", roles, "360102", unit_name="滨江")
    cookies = {SESSION_COOKIE: user.client.cookies[SESSION_COOKIE]}
    operations = [result.ok() for result in _pages_schema(app).get_all_operations()]
    assert len(operations) > 20

    def send(case: Any) -> Any:
        if isinstance(case.body, dict):  # a form: its CSRF token is the session's, so it reaches its checks
            case.body["csrf_token"] = user.csrf
        return case.call(cookies=cookies, base_url="https://testserver")

    failures = server_errors(operations, mode, send)
    assert not failures, "\n".join(failures)
