"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by Playwright through Debian's chromium.

* ``live_server`` (one per test session): a temporary SQLite store with keys, migrated,
  served on a free loopback port from a background thread; stopped at the end.
  ``live_server.add_user(...)`` creates an account and returns an :class:`Account`
  whose ``code()`` gives a fresh TOTP code (waiting for the next 30-second step when
  the current one was used: codes are never accepted twice).
* ``browser``: chromium at ``/usr/bin/chromium`` (``make browsers`` installs it with
  ``fonts-noto-cjk`` for Chinese text); every test here skips, saying why, without it.
  Playwright's own browser downloads are never used.
* ``province_server``: a second live server with the tiny demo province ingested and its
  city boundaries imported (pages that show records); ``new_page(province_server)``.
* ``new_page()``: a page in a fresh browser context (its own cookies, so two users can
  work side by side), Chinese locale and the Asia/Shanghai zone; ``confirm()`` dialogs are
  accepted; script errors and Content-Security-Policy refusals fail the test.
* ``sign_in(page, account)``: through the real form (password + TOTP).
* ``shot(page, "01-step")``: a full-page screenshot under
  ``test-artifacts/screenshots/<test name>/`` (git-ignored), for people to look at.

The session cookie keeps its ``Secure`` flag: chromium treats http://127.0.0.1 as a
secure context and stores it, so production defaults are not weakened for the tests.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lianfang.identity.totp import STEP_S, code_at
from lianfang.platform import Platform
from lianfang.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "Browser-Test-Password-2026"
TIMEOUT_MS = 15_000


@dataclass
class Account:
    username: str
    secret: str
    display_name: str
    last_step: int = -1

    def code(self) -> str:
        """A TOTP code for a step this account has not used yet."""
        step = int(time.time()) // STEP_S
        if step <= self.last_step:
            time.sleep((self.last_step + 1) * STEP_S - time.time() + 0.2)
            step = int(time.time()) // STEP_S
        self.last_step = step
        return code_at(self.secret, step * STEP_S)


@dataclass
class LiveServer:
    url: str
    platform: Platform
    accounts: dict[str, Account] = field(default_factory=dict)

    def add_user(self, username: str, roles: list[str], unit: str, *, display_name: str,
                 unit_name: str) -> Account:
        cred = self.platform.directory.add(username, display_name=display_name, unit_code=unit, unit_name=unit_name,
                                           roles=roles, now_ms=int(time.time() * 1000), password=PASSWORD)
        account = Account(username, cred.totp_secret, display_name)
        self.accounts[username] = account
        return account


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> Iterator[LiveServer]:
    var = tmp_path_factory.mktemp("browser-store")
    plat = Platform(Settings(var_dir=var))  # SQLite under var/, key file under var/keys/
    plat.ensure_key()
    plat.migrate()
    try:
        with serve(plat) as url:
            yield LiveServer(url, plat)
    finally:
        plat.close()


@pytest.fixture(scope="session")
def province_server(tmp_path_factory: pytest.TempPathFactory, tiny_demo: Path, serve: Any) -> Iterator[LiveServer]:
    """A second live server whose store holds the tiny demo province (the 滨江 → 云州 story) and its
    city boundaries, for pages that show records: ``new_page(province_server)`` opens a page on it."""
    from lianfang.ingest.pipeline import Ingestor
    from lianfang.track.boundaries import import_boundaries

    var = tmp_path_factory.mktemp("browser-province")
    plat = Platform(Settings(var_dir=var))
    plat.ensure_key()
    plat.migrate()
    Ingestor(engine=plat.engine, standard=plat.standard, keyring=plat.keyring, settings=plat.settings,
             mappings=plat.mappings).ingest([tiny_demo])
    import_boundaries(tiny_demo / "geo" / "cities.geojson", plat.settings.resolved_geo_dir(),
                      plat.settings.geo_max_bytes)
    try:
        with serve(plat) as url:
            yield LiveServer(url, plat)
    finally:
        plat.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (`make browsers` installs it with "
                    "fonts-noto-cjk; needs apt-get and root or sudo)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--disable-dev-shm-usage", "--lang=zh-CN"])
    except Exception as exc:  # a chromium that cannot start here (missing libraries, no sandbox support)
        pw.stop()
        pytest.skip(f"chromium at {CHROMIUM} could not be started: {str(exc).splitlines()[0]}")
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[[], Any]]:
    contexts: list[Any] = []
    problems: list[str] = []

    def make(server: LiveServer | None = None) -> Any:
        context = browser.new_context(base_url=(server or live_server).url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))

        def console(msg: Any) -> None:
            if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused to" in msg.text):
                problems.append(f"CSP: {msg.text}")

        page.on("console", console)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    folder = Path(request.config.rootpath) / "test-artifacts" / "screenshots" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, step: str) -> Path:
        path = folder / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in() -> Callable[..., None]:
    def do(page: Any, account: Account, *, lang: str | None = None) -> None:
        page.goto("/sign-in" + (f"?lang={lang}" if lang else ""))
        page.fill("input[name=username]", account.username)
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=code]", account.code())
        page.click("#sign-in")
        page.wait_for_selector("#who")

    return do


__all__ = ["PASSWORD", "Account", "LiveServer"]
