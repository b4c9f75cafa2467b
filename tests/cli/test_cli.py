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
    summary = json.loads(res.stdout)
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
    assert json.loads(again.stdout)["files"][0]["status"] == "skipped"


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


def test_batches_list_and_show_what_was_ingested(env: Path) -> None:
    first = runner.invoke(app, ["ingest", str(env / "rk_1.csv"), "--mapping", str(env / "m.yaml"), "--json"])
    assert first.exit_code == 0, first.output
    batch = json.loads(first.stdout)["batch_id"]
    (env / "rk_2.csv").write_bytes(("\n".join(ROWS[:2]) + "\n360102198506120058,赵六,女,19850612,13912345678\n"
                                    ).encode("gbk"))
    runner.invoke(app, ["ingest", str(env / "rk_2.csv"), "--mapping", str(env / "m.yaml"), "--json"])

    listed = runner.invoke(app, ["batches", "list"])
    assert listed.exit_code == 0, listed.output
    assert "ingestion batches: 2" in listed.output and "Asia/Shanghai" in listed.output
    lines = [ln.split() for ln in listed.output.splitlines() if ln.strip()[:1].isdigit()]
    assert [ln[0] for ln in lines] == [str(batch + 1), str(batch)]  # newest first
    assert lines[1][1:3] == ["done", "cli"] and lines[1][-5:] == ["1", "4", "2", "2", "0"]  # files … duplicates
    paged = runner.invoke(app, ["batches", "list", "--limit", "1"])
    assert "1 older: --offset 1" in paged.output

    shown = runner.invoke(app, ["batches", "show", str(batch)])
    assert shown.exit_code == 0, shown.output
    assert f"batch {batch}: done (cli)" in shown.output
    row = next(ln.split() for ln in shown.output.splitlines() if ln.strip().startswith("rk_1.csv "))
    assert row == ["rk_1.csv", "person", "360100", "done", "4", "2", "2", "0"]
    assert "mapping test.cli.rk v1, checkpoint at record 4" in shown.output
    assert "张三" not in shown.output and "11010519491231002X" not in shown.output  # counts, never values

    as_json = json.loads(runner.invoke(app, ["batches", "show", str(batch), "--json"]).output)
    assert as_json["status"] == "done" and as_json["files"][0]["accepted"] == 2
    assert as_json["started_at"].startswith("20")  # a local time, not epoch milliseconds
    done = json.loads(runner.invoke(app, ["batches", "list", "--status", "done", "--json"]).output)
    assert done["total"] == 2
    assert json.loads(runner.invoke(app, ["batches", "list", "--status", "failed", "--json"]).output)["total"] == 0


def test_batches_refuse_unknown_ids_and_statuses(env: Path) -> None:
    no_key = runner.invoke(app, ["batches", "list"])  # a store nobody set up yet
    assert no_key.exit_code == 1 and "key file not found" in no_key.output
    assert "create it with `lianfang keys init`" in no_key.output and "Traceback" not in no_key.output
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    missing = runner.invoke(app, ["batches", "show", "999"])
    assert missing.exit_code == 1 and "no batch 999" in missing.output
    bad = runner.invoke(app, ["batches", "list", "--status", "finished"])
    assert bad.exit_code == 1 and "unknown status 'finished'" in bad.output


def test_db_upgrade_names_each_migration_it_applies(env: Path) -> None:
    from alembic import command

    from lianfang.store.engine import alembic_config, make_engine

    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0 and "schema up to date" in first.output
    url = Settings().resolved_database_url()
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:  # a store one revision behind
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "0012")
    engine.dispose()
    behind = runner.invoke(app, ["db", "upgrade"])
    assert behind.exit_code == 0, behind.output
    assert "applying migration 0013: sighting dedup keys lead with the minute of the pass" in behind.output
    assert "applying migration 0012" not in behind.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and "applying" not in again.output
