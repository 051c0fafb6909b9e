"""The community in a real browser (Debian's Chromium through Playwright), on both backends:
sign up, submit a paper, upvote it, comment with a hostile payload that must stay inert (no
dialog, no script or image element made from it, no console error: the CSP holds), log out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import browser_sign_up, serving, watched_tab
from tests.web.test_browser import browser  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.usefixtures("fast_passwords")

FRESH = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
HOSTILE = '<script>alert("script")</script> <img src=x onerror="alert(1)"> **bold words**'


@pytest.fixture
def page(browser: Browser, store: Store, tmp_path: Path) -> Iterator[tuple[Page, list[str]]]:  # noqa: F811
    store.upsert_papers(
        [Paper(id="2604.00002", title="A fresh paper", published=FRESH, listed=FRESH)]
    )
    with (
        serving(create_app(Settings(home=tmp_path), store)) as url,
        watched_tab(browser, url) as (opened, problems),
    ):

        def on_dialog(dialog: Dialog) -> None:
            problems.append(f"a dialog opened: {dialog.message}")
            dialog.dismiss()

        opened.on("dialog", on_dialog)
        yield opened, problems


def test_sign_up_submit_upvote_comment_log_out(page: tuple[Page, list[str]], store: Store):
    tab, problems = page
    browser_sign_up(tab, "ada")

    tab.goto("/submit")
    tab.get_by_label("arXiv id or URL").fill("https://arxiv.org/abs/2604.00002")
    tab.get_by_role("button", name="Submit").click()
    expect(tab).to_have_url("/papers/2604.00002")
    expect(tab.locator(".submitter")).to_contain_text("ada")

    tab.get_by_role("button", name="Upvote").click()
    expect(tab.locator("#votes")).to_contain_text("1 here · 0 on Hugging Face")
    expect(tab.get_by_role("button", name="Remove my upvote")).to_be_visible()

    tab.get_by_label("Add a comment").fill(HOSTILE)
    tab.get_by_role("button", name="Comment", exact=True).click()
    comment = tab.locator(".comment-body").first
    expect(comment.locator("strong")).to_have_text("bold words")
    expect(comment).to_contain_text('<script>alert("script")</script>')
    assert comment.locator("script, img").count() == 0

    tab.get_by_role("button", name="Log out").click()
    tab.goto("/papers/2604.00002")
    expect(tab.get_by_role("link", name="Log in to upvote")).to_be_visible()
    assert problems == []
    assert store.community.vote_counts() == {"2604.00002": 1}
