"""``lianfang search`` against a real server: the token's user, the policy and the audit trail apply."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from lianfang.cli import app
from lianfang.platform import Platform

CASE = "A3601002026110001"


def test_search_from_the_command_line(province: Platform, serve: Any) -> None:
    now = int(time.time() * 1000)
    province.directory.add("cli_inv", display_name="cli", unit_code="360102", unit_name="滨江", roles=["investigator"],
                           now_ms=now, password="Test-Password-2026")
    _, token = province.tokens.create("cli_inv", "cli", {"data:read"}, days=1, now_ms=now)
    runner = CliRunner()
    with serve(province) as url:
        env = {"LIANFANG_URL": url, "LIANFANG_TOKEN": token, "COLUMNS": "200"}
        out = runner.invoke(app, ["search", "赣A7Q777", "--purpose", "case_investigation", "--case-no", CASE], env=env)
        assert out.exit_code == 0, out.output
        assert "赣A7Q777" in out.output and "masked" in out.output and "360200" in out.output
        out = runner.invoke(app, ["search", "赣A7Q777", "--purpose", "case_investigation", "--case-no", CASE,
                                  "--category", "sighting", "--size", "3", "--json"], env=env)
        assert out.exit_code == 0, out.output
        body = json.loads(out.stdout)
        assert [g["category"] for g in body["groups"]] == ["sighting"] and len(body["groups"][0]["items"]) == 3
        refused = runner.invoke(app, ["search", "赣A7Q777", "--purpose", "curiosity"], env=env)
        assert refused.exit_code == 2 and "未知用途" in refused.output
        no_token = runner.invoke(app, ["search", "赣A7Q777", "--purpose", "identity_check"],
                                 env={"LIANFANG_URL": url, "LIANFANG_TOKEN": ""})
        assert no_token.exit_code == 1 and "token" in no_token.output
    assert token not in out.output
    with province.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_event WHERE username = 'cli_inv' ORDER BY seq"))]
    assert actions.count("data.search") == 3
