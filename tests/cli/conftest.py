"""The platform the CLI commands will see: the test's store in the environment, a master key made by the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from lianfang.cli import app
from lianfang.cli.common import console, err_console
from lianfang.platform import Platform
from lianfang.settings import Settings


@pytest.fixture
def cli_platform(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Platform]:
    monkeypatch.setenv("LIANFANG_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("LIANFANG_DATABASE_URL", settings.resolved_database_url())
    console.width = err_console.width = 200
    assert CliRunner().invoke(app, ["keys", "init"]).exit_code == 0
    plat = Platform(Settings())
    plat.migrate()
    yield plat
    plat.close()
