"""In chromium: sign in with password + TOTP (Chinese by default), the top bar, switching to English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_sign_in_and_switch_language(live_server: Any, new_page: Callable[[], Any], sign_in: Callable[..., None],
                                     shot: Callable[[Any, str], Any]) -> None:
    inv = live_server.add_user("bj_inv_lang", ["investigator"], "360100", display_name="李侦查",
                               unit_name="滨江市公安局刑侦支队")
    page = new_page()
    page.goto("/")
    assert page.url.endswith("/sign-in")
    assert page.locator("h1").inner_text() == "登录" and page.locator("html").get_attribute("lang") == "zh-CN"
    shot(page, "01-sign-in-zh")

    sign_in(page, inv)
    cookie = next(c for c in page.context.cookies() if c["name"] == "lf_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.locator("h1").inner_text() == "欢迎，李侦查"
    assert page.locator("#who").inner_text().split() == ["李侦查", "滨江市公安局刑侦支队"]
    assert page.locator("#nav-access").inner_text() == "授权申请"
    assert page.locator("#unread-badge").inner_text() == "0"
    shot(page, "02-home-zh")

    page.click("#lang-switch")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").inner_text() == "Welcome, 李侦查"
    assert page.locator("#nav-access").inner_text() == "Access requests"
    assert page.locator("#sign-out").inner_text() == "Sign out"
    page.click("#nav-access")
    page.wait_for_selector("#requests")
    assert page.locator("h1").inner_text() == "My access requests"  # English is remembered
    shot(page, "03-access-en")

    page.click("#lang-switch")
    page.wait_for_selector("html[lang=zh-CN]")
    page.click("#sign-out")
    page.wait_for_selector("#sign-in")
    page.goto("/access")
    assert "/sign-in?next=%2Faccess" in page.url  # the session really ended
