"""The command line as a steward uses it: standard, source check, ingest, quarantine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lianfang.cli import app
from lianfang.cli.common import console, err_console
from lianfang.settings import Settings

MAPPING = """
mapping: test.cli.rk
version: 1
city: "360100"
system: CLI-RK
source: {format: csv, encoding: gbk}
formats: ["%Y%m%d"]
value_maps: {sex: {"男": "1", "女": "2"}}
feeds:
  - category: person
    match: "rk*.csv"
    fields: {citizen_id: GMSFHM, name: XM, sex: {from: XB, map: sex}, birth_date: CSRQ, phone: LXDH}
"""

ROWS = [
    "GMSFHM,XM,XB,CSRQ,LXDH",
    "11010519491231002X,张三,男,19491231,138-1234-5678",
    "360102198506120031,李四,男,19850612,13912345678",
    "360102198506120032,王五,女,19850612,13912345678",
    "360102198506120031,李四,未知,19850612,13912345678",
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Path:
    monkeypatch.setenv("LIANFANG_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("LIANFANG_DATABASE_URL", settings.resolved_database_url())
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "rk_1.csv").write_bytes(("\n".join(ROWS) + "\n").encode("gbk"))
    return tmp_path


runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console() -> None:
    # tables must not wrap values in the test terminal
    console.width = 240
    err_console.width = 240


def test_standard_show_in_both_languages() -> None:
    zh = runner.invoke(app, ["standard", "show", "person"])
    assert zh.exit_code == 0 and "公民身份号码" in zh.output
    en = runner.invoke(app, ["standard", "show", "person", "--lang", "en"])
    assert "Citizen ID number" in en.output
    bad = runner.invoke(app, ["standard", "show", "nope"])
    assert bad.exit_code == 1 and "unknown category" in bad.output


def test_docs_are_current() -> None:
    res = runner.invoke(app, ["standard", "docs", "--check"])
    assert res.exit_code == 0, res.output


def test_source_check_previews_masked_and_counts_problems(env: Path) -> None:
    res = runner.invoke(app, ["source", "check", str(env / "m.yaml"), str(env / "rk_1.csv")])
    assert res.exit_code == 0, res.output
    assert "110105********002X" in res.output and "11010519491231002X" not in res.output
    assert "138****5678" in res.output and "张三" not in res.output
    assert "citizen_id.check_digit 1" in res.output and "code.unknown 1" in res.output


def test_ingest_then_quarantine_workflow(env: Path) -> None:
    res = runner.invoke(
        app, ["ingest", str(env / "rk_1.csv"), "--mapping", str(env / "m.yaml"), "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert (summary["read"], summary["accepted"], summary["quarantined"]) == (4, 2, 2)
    listed = runner.invoke(app, ["quarantine", "list"])
    assert (
        "citizen_id:citizen_id.check_digit" in listed.output and "sex:code.unknown" in listed.output
    )
    assert "王五" not in listed.output
    shown = runner.invoke(app, ["quarantine", "show", "1"])
    assert shown.exit_code == 0 and "王五" not in shown.output
    fixed = runner.invoke(
        app,
        [
            "quarantine",
            "retry",
            "--reason",
            "code.unknown",
            "--set",
            "XB=男",
            "--mapping",
            str(env / "m.yaml"),
        ],
    )
    # the corrected record has the same key as an accepted one: it is a duplicate now
    assert "resolved 0, duplicates 1" in fixed.output
    again = runner.invoke(
        app, ["ingest", str(env / "rk_1.csv"), "--mapping", str(env / "m.yaml"), "--json"]
    )
    assert json.loads(again.output)["files"][0]["status"] == "skipped"


def test_ingest_of_missing_path_is_a_clear_error(env: Path) -> None:
    res = runner.invoke(app, ["ingest", str(env / "nope.csv")])
    assert res.exit_code == 1 and "no such file" in res.output


def test_ingest_builds_indexes_a_dead_bulk_load_left_unbuilt(env: Path, settings: Settings) -> None:
    from sqlalchemy import inspect

    from lianfang.platform import Platform
    from lianfang.store.indexes import secondary_indexes, set_aside
    from lianfang.store.schema import build_metadata

    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    plat = Platform(settings)
    try:
        plat.migrate()
        table = build_metadata(plat.standard).tables["rec_person"]
        wanted = {str(ix.name) for ix in secondary_indexes(table)}
        assert wanted and set_aside(plat.engine, table)  # as a bulk load killed mid-file leaves them
        res = runner.invoke(app, ["ingest", str(env / "rk_1.csv"), "--mapping", str(env / "m.yaml")])
        assert res.exit_code == 0, res.output
        assert all(f"building index {name} on rec_person" in res.output for name in wanted)
        assert wanted <= {str(ix["name"]) for ix in inspect(plat.engine).get_indexes("rec_person")}
    finally:
        plat.close()
