"""Onboarding in a real browser (Debian's Chromium through Playwright), on both backends:
a new reader chooses a BibTeX file of their own papers (posted as a multipart form), gets
their "For you" page, and sees which entries were left out and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.topics import slice as data
from tests.web.conftest import browser_sign_up, serving, watched_tab
from tests.web.test_browser import browser  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def tab(browser: Browser, store: Store, tmp_path: Path) -> Iterator[tuple[Page, list[str]]]:  # noqa: F811
    data.load(store)
    settings = Settings(home=tmp_path, embedding_model=data.MODEL, search_fetch_missing=False)
    with (
        serving(create_app(settings, store)) as url,
        watched_tab(browser, url) as (opened, problems),
    ):
        yield opened, problems


def test_onboarding_with_a_chosen_bibtex_file(
    tab: tuple[Page, list[str]], store: Store, tmp_path: Path
) -> None:
    page, problems = tab
    mine = [r for r in data.rows() if r["listed"] < "2026-03-18"][:3]
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "\n".join(
            [
                *(
                    f"@article{{own{n}, title={{Mine}}, eprint={{{r['id']}}}, "
                    "archivePrefix={arXiv}}"
                    for n, r in enumerate(mine)
                ),
                "@misc{talk, title={A talk with no identifier}}",
            ]
        )
    )
    browser_sign_up(page, "ada")
    page.goto("/for-you/start")
    page.get_by_label("Or choose a BibTeX file of your own papers").set_input_files(bib)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("status")).to_contain_text("3 papers recorded")
    expect(page.locator(".left-out")).to_contain_text("entry talk: names no paper")
    page.get_by_role("link", name="See your papers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("For you")
    assert problems == []
    ada = store.accounts.user_by_email("ada@lab.example")
    assert ada is not None and set(store.recs.feedback(ada.id)) == {r["id"] for r in mine}
