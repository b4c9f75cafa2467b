"""``lianfang track`` against a real server on loopback, with an API token, as an analyst runs it."""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from track_province import BINJIANG, CASE, CLONED, STORY, World  # registered by conftest.py
from typer.testing import CliRunner

from lianfang.api.app import create_app
from lianfang.cli import app
from lianfang.cli.common import console, err_console
from lianfang.platform import Platform

runner = CliRunner()


@pytest.fixture
def server(platform: Platform) -> Iterator[str]:
    """The API on 127.0.0.1, a free port, in a thread; stopped (bounded) when the test ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(platform), log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    sock.close()


def token_for(platform: Platform, username: str, unit: str) -> str:
    now = int(time.time() * 1000)
    platform.directory.add(username, display_name=username, unit_code=unit, unit_name=unit, roles=["investigator"],
                           now_ms=now, password="Test-Password-2026")
    return platform.tokens.create(username, "cli", {"data:read"}, days=1, now_ms=now)[1]


@pytest.fixture(autouse=True)
def wide_console() -> None:
    console.width = err_console.width = 240


def track(url: str, token: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["track", *args, "--url", url, "--token", token])
    return result.exit_code, result.output


def test_the_table_marks_masked_points_and_the_crossing(world: World, server: str, platform: Platform) -> None:
    token = token_for(platform, "bj_inv", BINJIANG)
    code, out = track(server, token, "赣A·7Q777", "--purpose", "case_investigation", "--case-no", CASE)
    assert code == 0, out
    assert STORY in out and "八一大道卡口" in out and "洪都大道卡口" in out
    assert out.count("已遮蔽 masked") == 2 and "云州东卡口" not in out
    assert "跨市 360100→360200" in out
    assert "可见 shown 2 · 遮蔽 masked 2" in out and "跨市 crossings 1" in out
    assert token not in out


def test_the_table_flags_a_cloned_plate(world: World, server: str, platform: Platform) -> None:
    token = token_for(platform, "sheng_inv", "360000")
    code, out = track(server, token, CLONED, "--purpose", "case_investigation", "--case-no", CASE)
    assert code == 0, out
    assert "疑似套牌 clone?" in out and "疑似套牌 clone suspects 1" in out


def test_csv_goes_to_a_file_as_the_server_exported_it(world: World, server: str, platform: Platform,
                                                      tmp_path: Path) -> None:
    token = token_for(platform, "bj_inv", BINJIANG)
    out_file = tmp_path / "track.csv"
    code, out = track(server, token, STORY, "--purpose", "case_investigation", "--case-no", CASE, "--format", "csv",
                      "--out", str(out_file))
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8-sig"))))
    assert [r["access"] for r in rows] == ["allow", "allow", "mask", "mask"]
    code, out = track(server, token, STORY, "--purpose", "case_investigation", "--case-no", CASE, "--format",
                      "geojson")
    assert code == 0 and '"FeatureCollection"' in out


def test_refusals_come_back_as_a_clear_message(world: World, server: str, platform: Platform) -> None:
    token = token_for(platform, "bj_inv", BINJIANG)
    code, out = track(server, token, STORY, "--purpose", "case_investigation", "--case-no", "")
    assert code == 2 and "403" in out and "case number" in out
    code, out = track(server, "lf_not-a-token", STORY, "--purpose", "case_investigation", "--case-no", CASE)
    assert code == 2 and "401" in out
    code, out = track(server, token, STORY, "--purpose", "x", "--case-no", CASE, "--format", "pdf")
    assert code == 1 and "--format" in out
