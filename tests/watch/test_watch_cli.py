"""``lianfang watch`` against a real server on loopback, with an API token, as an investigator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner
from watch_world import BINJIANG, CASE, PERSON_ID, PLATE, YUNZHOU, Running, bearer, ingest  # conftest.py

from lianfang.cli import app
from lianfang.cli.common import console, err_console
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console() -> None:
    console.width = err_console.width = 240


def watch(server: Running, token: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["watch", *args, "--url", server.url, "--token", token], input=stdin)
    return result.exit_code, result.output


def test_add_list_hits_and_remove(platform: Platform, server: Running, ing: Ingestor, tmp_path: Path) -> None:
    headers, _ = bearer(platform, "bj_inv")
    token = headers["Authorization"].removeprefix("Bearer ")
    code, out = watch(server, token, "add", "--plate", "赣A·7Q777", "--reason", "嫌疑车辆", "--case-no", CASE,
                      "--city", BINJIANG)
    assert code == 0, out
    assert f"布控 watch 1 on {PLATE} in {BINJIANG}" in out
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}])
    code, out = watch(server, token, "list")
    assert code == 0 and PLATE in out and CASE in out and "active" in out, out
    code, out = watch(server, token, "hits")
    assert code == 0 and "可见 full" in out and "36010200001190000001" in out, out
    code, out = watch(server, token, "remove", "1")
    assert code == 0 and "removed" in out, out
    assert token not in out


def test_another_citys_scope_is_refused_with_the_cities_that_need_a_grant(platform: Platform,
                                                                          server: Running) -> None:
    headers, _ = bearer(platform, "bj_inv")
    token = headers["Authorization"].removeprefix("Bearer ")
    code, out = watch(server, token, "add", "--plate", PLATE, "--reason", "r", "--case-no", CASE,
                      "--city", BINJIANG, "--city", YUNZHOU)
    assert code == 2 and YUNZHOU in out and "403" in out, out


def test_a_citizen_id_is_read_from_standard_input_and_shown_masked(platform: Platform, server: Running) -> None:
    headers, _ = bearer(platform, "yz_inv", unit="360202")
    token = headers["Authorization"].removeprefix("Bearer ")
    code, out = watch(server, token, "add", "--citizen-id", "--reason", "在逃", "--case-no", CASE, "--city", YUNZHOU,
                      stdin=PERSON_ID + "\n")
    assert code == 0, out
    code, listed = watch(server, token, "list")
    assert "360202********0013" in out + listed and PERSON_ID not in out + listed
