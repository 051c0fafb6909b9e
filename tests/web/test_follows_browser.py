"""Follows and author claims in a real browser (Debian's Chromium through Playwright), on both
backends: follow an author with the button, see their new paper on Following (and the
header's count) after an ingest; claim a paper, an admin approves it on the moderation
page, the author page shows the account and the claimed paper first; hide a paper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from paperstand.accounts.service import Accounts
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import PASSWORD, browser_sign_up, serving
from tests.web.test_browser import browser  # noqa: F401 - the browser fixture
from tests.web.test_follows import AUTHOR, arxiv, ingest_lines

pytestmark = pytest.mark.usefixtures("fast_passwords")
# A reader's and an admin's browser contexts, and the console errors of both.
Two = tuple[BrowserContext, BrowserContext, list[str]]


@pytest.fixture
def site(browser: Browser, store: Store, tmp_path: Path) -> Iterator[Two]:  # noqa: F811
    settings = Settings(home=tmp_path)
    ingest_lines(
        store,
        arxiv("2604.00001", "An older paper", [AUTHOR, "Bo Sample"]),
        arxiv("2604.00002", "A paper to hide", [AUTHOR]),
    )
    Accounts(store, settings).create("root@lab.example", name="root", admin=True, password=PASSWORD)
    with serving(create_app(settings, store)) as url:
        problems: list[str] = []
        contexts = [browser.new_context(base_url=url) for _ in range(2)]
        for context in contexts:
            context.on("console", lambda m: m.type == "error" and problems.append(m.text))
        try:
            yield contexts[0], contexts[1], problems
        finally:
            for context in contexts:
                context.close()


def log_in(tab: Page, name: str) -> None:
    tab.goto("/login")
    tab.get_by_label("Email").fill(f"{name}@lab.example")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()


def test_follow_an_author_and_see_their_new_paper(site, store: Store) -> None:
    reader, _, problems = site
    tab = reader.new_page()
    browser_sign_up(tab, "ada")
    tab.goto("/authors/zoe angstrom")
    tab.get_by_role("button", name="Follow zoe angstrom").click()
    expect(tab.get_by_role("button", name="Unfollow zoe angstrom")).to_be_visible()
    tab.get_by_role("link", name="Following").click()
    expect(tab.locator("main")).to_contain_text("Nothing new since your last visit")

    ingest_lines(store, arxiv("2604.00003", "A brand new result", ["Zoe Angstrom"]))
    tab.goto("/")
    expect(tab.locator(".following-link .badge")).to_have_text("1")
    tab.get_by_role("link", name="Following").click()
    expect(tab.locator(".follow-news")).to_contain_text("A brand new result")
    expect(tab.locator(".following-link .badge")).to_have_count(0)

    tab.goto("/settings/follows")
    tab.get_by_role("button", name="Unfollow zoe angstrom").click()
    expect(tab.locator("main")).to_contain_text("You follow nothing yet")
    assert problems == []


def test_claim_approve_hide(site, store: Store) -> None:
    author_context, admin_context, problems = site
    author = author_context.new_page()
    browser_sign_up(author, "ada")
    author.goto("/authors/zoe angstrom")
    author.get_by_role("button", name="I am zoe angstrom: claim 2604.00001").click()
    author.goto("/settings/follows")
    expect(author.locator(".claims")).to_contain_text("pending")

    admin = admin_context.new_page()
    log_in(admin, "root")
    admin.goto("/moderation/claims")
    admin.get_by_role("button", name=f"Approve ada as {AUTHOR} on 2604.00001").click()
    expect(admin.locator("main")).to_contain_text("No claims are waiting")

    author.goto("/authors/zoe angstrom")
    expect(author.locator(".claimant")).to_have_text("ada")
    first = author.locator(".claimed .card").first
    expect(first).to_contain_text("An older paper")
    author.locator("li", has_text="A paper to hide").get_by_role(
        "button", name="Hide from my page"
    ).click()
    expect(author.locator(".hidden-papers")).to_contain_text("A paper to hide")

    admin.goto("/authors/zoe angstrom")
    expect(admin.locator("main")).not_to_contain_text("A paper to hide")
    expect(admin.locator(".claimed")).to_contain_text("An older paper")
    assert store.follows.claimed_paper_ids(store.accounts.user_by_name("ada").id) == {"2604.00001"}
    assert problems == []
