"""Accounts in a real browser (Debian's Chromium through Playwright), on both backends:
sign up, log out, log in, make and revoke an API token, log out; no console error (a CSP
violation would be one) on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import serving
from tests.web.test_browser import browser  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def page(browser: Browser, store: Store, tmp_path: Path) -> Iterator[Page]:  # noqa: F811
    with serving(create_app(Settings(home=tmp_path), store)) as url:
        context = browser.new_context(base_url=url)
        opened = context.new_page()
        problems: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                problems.append(message.text)

        opened.on("console", on_console)
        opened.on("pageerror", lambda exc: problems.append(str(exc)))
        try:
            yield opened
        finally:
            context.close()
        # The one wrong password is answered 401, which the browser reports.
        assert [p for p in problems if "status of 401" not in p] == []


def test_sign_up_log_out_log_in(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("ada@lab.example")
    page.get_by_label("User name").fill("Ada")
    page.get_by_label("Password").fill("correct horse")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".account")).to_contain_text("ada")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["paperstand_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert "paperstand_session" not in {c["name"] for c in page.context.cookies()}

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("ada@lab.example")
    page.get_by_label("Password").fill("wrong horse")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("wrong email or password")
    page.get_by_label("Password").fill("correct horse")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".account")).to_contain_text("ada")

    page.get_by_role("link", name="ada").click()
    page.get_by_label("What is it for?").fill("nightly script")
    page.get_by_role("button", name="Make a token").click()
    token = page.locator("#new-token").inner_text()
    url = page.url.split("/settings")[0]
    me = httpx.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "ada"
    page.get_by_role("button", name="Revoke nightly script").click()
    expect(page.get_by_role("status")).to_contain_text("The token is revoked")
    gone = httpx.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Sign up")).to_be_visible()
