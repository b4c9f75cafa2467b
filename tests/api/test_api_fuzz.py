"""Every operation of the API schema, fed what the schema allows and what it does not: never a server error.

Schemathesis builds the requests from ``/openapi.json`` (valid ones, and invalid ones: wrong types,
missing fields, values out of range); Hypothesis drives them. A 5xx is a defect whatever the input — bad
input is a 4xx that says why. Each operation is called with an API token holding every scope, as three
kinds of 滨江 user (an investigator who is also a steward, a city approver who also dispatches, an
auditor), so that most requests get past authentication and the role checks into the route's own.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from lianfang.api.app import create_app
from lianfang.identity.tokens import SCOPES
from lianfang.platform import Platform

pytestmark = pytest.mark.xdist_group("fuzz_api")

#: streams that stay open until the client leaves (their bounds and errors have tests of their own)
_LIVE = {"/api/v1/watch/stream"}


def _operations(province: Platform, roles: list[str]) -> tuple[list[Any], dict[str, str]]:
    now = time.time_ns()
    name = f"fuzz_{roles[0]}_{now}"
    province.directory.add(name, display_name="f", unit_code="360102", unit_name="滨江", roles=roles,
                           now_ms=now // 1_000_000)
    _, token = province.tokens.create(name, "fuzz", set(SCOPES), days=1, now_ms=now // 1_000_000)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(province))
    return [result.ok() for result in schema.get_all_operations()], {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("roles", [["investigator", "steward"], ["city_approver", "dispatcher"], ["auditor"]],
                         ids=["investigator", "approver", "auditor"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_request_is_answered_with_a_server_error(province: Platform, mode: GenerationMode, roles: list[str],
                                                    server_errors: Any) -> None:
    operations, auth = _operations(province, roles)
    assert len(operations) > 20
    failures = server_errors([op for op in operations if op.path not in _LIVE], mode,
                             lambda case: case.call(headers=auth))
    assert not failures, "\n".join(failures)
