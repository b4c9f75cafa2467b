"""``lianfang demo users`` creates the province's staff once and tells how to sign in as each role."""

from __future__ import annotations

import re
import stat
import time
from collections import Counter

import pytest
from typer.testing import CliRunner

from lianfang.cli import app
from lianfang.cli.demo_cmd import DEMO_PASSWORD
from lianfang.platform import Platform
from lianfang.policy.roles import ADMIN_DUTIES

runner = CliRunner()


@pytest.fixture
def plat(cli_platform: Platform) -> Platform:
    return cli_platform


def test_demo_staff_across_the_province(plat: Platform) -> None:
    out = runner.invoke(app, ["demo", "users"])
    assert out.exit_code == 0, out.output
    assert "87 demo accounts (87 new)" in out.output and DEMO_PASSWORD in out.output
    assert "bj_inv" in out.output and "yz_appr" in out.output and "sheng_audit" in out.output
    users = plat.directory.list()
    roles = Counter(r.value for u in users for r in u.roles)
    assert roles["officer"] == roles["city_approver"] == roles["dispatcher"] == 16
    assert roles["investigator"] == 17  # one per city and one at the province
    assert roles["province_approver"] == 2 and roles["auditor"] == 1 and roles["partner"] == 1
    assert all(len(u.roles & ADMIN_DUTIES) <= 1 for u in users)
    assert len({u.unit_code[:4] for u in users if not u.unit_code.endswith("0000")}) == 16
    secrets = plat.settings.var_dir / "demo-users.tsv"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600

    again = runner.invoke(app, ["demo", "users"])
    assert "87 demo accounts (0 new)" in again.output

    code = runner.invoke(app, ["demo", "code", "bj_inv"])
    found = re.search(r"\b(\d{6})\b", code.output)
    assert code.exit_code == 0 and found is not None
    session, _ = plat.auth.sign_in("bj_inv", DEMO_PASSWORD, found.group(1), client=None,
                                   now_ms=int(time.time() * 1000))
    assert session.user.unit_name == "滨江市公安局"
    assert runner.invoke(app, ["demo", "code", "nobody"]).exit_code == 1
