"""``lianfang users`` and ``lianfang tokens`` as a security administrator uses them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from lianfang.cli import app
from lianfang.platform import Platform

runner = CliRunner()


@pytest.fixture
def plat(cli_platform: Platform) -> Platform:
    return cli_platform


def test_add_list_disable_reset_and_tokens(plat: Platform) -> None:
    out = runner.invoke(
        app,
        ["users", "add", "bj_appr_wang", "--name", "王审批", "--unit", "360100", "--unit-name", "滨江市公安局",
         "--role", "city_approver"],
    )
    assert out.exit_code == 0, out.output
    password = re.search(r"初始密码 \(change at first sign-in\): (\S+)", out.output)
    assert password is not None and len(password.group(1)) >= 12
    assert "otpauth://totp/" in out.output

    out = runner.invoke(app, ["users", "add", "x_admin", "--name", "X", "--unit", "360000",
                              "--role", "auditor", "--role", "security_admin"])
    assert out.exit_code == 1 and "三员分立" in out.output

    out = runner.invoke(app, ["users", "list", "--unit", "3601"])
    assert out.exit_code == 0 and "bj_appr_wang" in out.output and "市级审批" in out.output and "active" in out.output

    assert runner.invoke(app, ["users", "disable", "bj_appr_wang"]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["users", "list"]).output
    out = runner.invoke(app, ["users", "reset", "bj_appr_wang"])
    assert out.exit_code == 0 and "TOTP secret" in out.output
    assert runner.invoke(app, ["users", "enable", "bj_appr_wang"]).exit_code == 0

    out = runner.invoke(app, ["tokens", "create", "bj_appr_wang", "--name", "推送", "--scope", "ingest:write",
                              "--days", "30"])
    assert out.exit_code == 0, out.output
    token = re.search(r"(lf_\S+)", out.output)
    assert token is not None
    assert runner.invoke(app, ["tokens", "revoke", "1"]).exit_code == 0
    assert runner.invoke(app, ["tokens", "revoke", "1"]).exit_code == 1

    with plat.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_event ORDER BY seq"))]
        trail = " ".join(str(r) for r in conn.execute(text("SELECT * FROM audit_event")))
    assert actions == ["admin.user_add", "admin.user_disable", "admin.user_reset", "admin.user_enable",
                       "admin.token_create", "admin.token_revoke"]
    assert password.group(1) not in trail and token.group(1) not in trail
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_unknown_user_is_a_clear_error(plat: Platform) -> None:
    out = runner.invoke(app, ["users", "disable", "nobody"])
    assert out.exit_code == 1 and "no user 'nobody'" in out.output


def test_identity_is_stored_as_digests_only(plat: Platform) -> None:
    from lianfang.crypto import BlindIndex
    from lianfang.identity.directory import family_digest

    runner.invoke(app, ["users", "add", "bj_off", "--name", "张警官", "--unit", "360101", "--role", "officer"])
    out = runner.invoke(app, ["users", "identity", "bj_off"], input="11010519491231002x\n张三\n岚江省滨江市江南区1号\n")
    assert out.exit_code == 0, out.output
    assert "11010519491231002" not in out.output and "张三" not in out.output
    blind = BlindIndex(plat.keyring)
    with plat.engine.connect() as conn:
        row = conn.execute(text("SELECT person_bidx, family_bidx FROM app_user WHERE username = 'bj_off'")).one()
        everything = " ".join(str(r) for r in conn.execute(text("SELECT * FROM app_user")))
    assert bytes(row[0]) == blind.digest("citizen_id", "11010519491231002X")
    assert bytes(row[1]) == family_digest(blind, "张四", "岚江省滨江市江南区1号")  # same surname, same address
    assert "张三" not in everything and "江南区" not in everything
    bad = runner.invoke(app, ["users", "identity", "bj_off"], input="110105194912310021\n张三\n某地\n")
    assert bad.exit_code == 1 and "citizen_id.check_digit" in bad.output
