"""The frame every page shares: top bar, nav by role, language switch, times, vendored assets, no inline script."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lianfang.web import i18n, page

BINJIANG = "360100"
TEMPLATES = Path(page.__file__).with_name("templates")
STATIC = Path(page.__file__).with_name("static")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _nav(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]+" id="nav-([a-z_]+)"', html)


def test_top_bar_and_nav_follow_the_roles(web_user: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG, display_name="李侦查", unit_name="滨江市公安局")
    home = inv.get("/").text
    assert '<strong>李侦查</strong><small>滨江市公安局</small>' in home and 'id="unread-badge">0<' in home
    built = {key for key, href in (("search", "/search"), ("trajectories", "/trajectories"), ("watch", "/watch"))
             if inv.get(href).status_code != 404}
    assert set(_nav(home)) == {"access", "notifications"} | built  # entries appear once their page exists
    assert "授权申请" in home and 'id="sign-out"' in home
    appr = web_user("bj_appr", ["city_approver"], BINJIANG)
    assert {"access", "approvals"} <= set(_nav(appr.get("/").text))
    auditor = web_user("aud", ["auditor"], "360000")
    assert set(_nav(auditor.get("/").text)) == {"audit", "notifications"}
    access = inv.get("/access").text
    assert 'id="nav-access" class="active" aria-current="page"' in access


def test_english_on_request_keeping_the_page(web_user: Callable[..., Any]) -> None:
    inv = web_user("bj_inv", ["investigator"], BINJIANG)
    zh = inv.get("/access/new", params={"owner_city": "360200", "keys": "person:1"}).text
    switch = re.search(r'id="lang-switch"', zh)
    assert switch and 'href="/access/new?owner_city=360200&amp;keys=person%3A1&amp;lang=en"' in zh
    en = inv.get("/access/new", params={"owner_city": "360200", "keys": "person:1", "lang": "en"})
    assert 'lang="en"' in en.text and "Request access to data" in en.text and "Sensitive" in en.text
    assert 'value="360200"' in en.text and "Access requests" in en.text and "中文" in en.text
    assert "Sign out" in inv.get("/").text  # remembered by a cookie
    assert "退出" in inv.get("/", params={"lang": "zh"}).text


def test_every_text_a_template_uses_exists_in_both_languages() -> None:
    zh, en = i18n.texts("zh"), i18n.texts("en")
    assert zh.keys() == en.keys()
    assert all(zh[k] and en[k] for k in zh)
    used: set[str] = set()
    for tpl in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_]+)", tpl.read_text(encoding="utf-8")))
    used |= {f"nav_{item.key}" for item in page.NAV}
    assert not used - zh.keys(), f"texts missing: {sorted(used - zh.keys())}"
    with pytest.raises(ValueError):
        i18n.add_texts({"app": {"zh": "x", "en": "x"}})


def test_no_inline_script_or_handler_in_any_page(web_user: Callable[..., Any], app: Any) -> None:
    """The CSP (default-src 'self') would block them: behaviour lives in static files."""
    from fastapi.testclient import TestClient

    pages = [TestClient(app, base_url="https://testserver").get("/sign-in")]
    inv = web_user("bj_inv", ["investigator", "city_approver"], BINJIANG)
    auditor = web_user("aud", ["auditor"], "360000")
    pages += [inv.get(u) for u in ("/", "/access", "/access/new", "/approvals", "/notifications", "/audit")]
    pages += [auditor.get(u) for u in ("/audit", "/audit/alarms")]
    for res in pages:
        assert res.headers["content-security-policy"].startswith("default-src 'self'")
        assert not _INLINE_SCRIPT.search(res.text), res.url
        assert not _HANDLER.search(res.text), res.url
        assert ' style="' not in res.text, res.url
        assert not re.search(r"(src|href)=[\"']https?://", res.text), res.url
    home = pages[1].text
    assert '<script src="/static/vendor/htmx/htmx.min.js"></script>' in home
    assert '<script src="/static/app.js"></script>' in home
    assert '"includeIndicatorStyles": false' in home  # htmx would otherwise add an inline <style>
    assert re.search(r'<meta name="csrf-token" content="[^"]{20,}">', home)


@pytest.mark.parametrize("asset,minimum", [
    ("htmx/htmx.min.js", 40_000), ("leaflet/leaflet.js", 100_000), ("leaflet/leaflet.css", 10_000),
    ("leaflet/images/marker-icon.png", 1_000), ("echarts/echarts.min.js", 500_000),
])  # fmt: skip
def test_vendored_libraries_are_served(asset: str, minimum: int, app: Any) -> None:
    from fastapi.testclient import TestClient

    res = TestClient(app, base_url="https://testserver").get(f"/static/vendor/{asset}")
    assert res.status_code == 200 and len(res.content) >= minimum
    folder = STATIC / "vendor" / asset.split("/")[0]
    assert (folder / "LICENSE").is_file()
    versions = (STATIC / "vendor" / "VERSIONS.md").read_text(encoding="utf-8")
    assert f"`{asset.split('/')[0]}/`" in versions


def test_app_script_sends_the_csrf_header_on_htmx_requests() -> None:
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "htmx:configRequest" in js and '"X-CSRF-Token"' in js and 'meta[name="csrf-token"]' in js
