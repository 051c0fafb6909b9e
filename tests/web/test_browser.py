"""The site in a real browser: Debian's Chromium driven by Playwright (never a downloaded
browser). Each step is screenshotted into a temporary directory; ``make screenshots`` runs
these tests with ``--screenshots docs/screenshots`` to refresh the README's pictures."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.web.conftest import OLD_STYLE, hf_response

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("no chromium: `make test` installs Debian's (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, live_url: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_url,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    opened = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":  # CSP violations and script errors land here
            problems.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        yield opened
        assert problems == []
    finally:
        context.close()


Shot = Callable[[Page, str], None]


@pytest.fixture(scope="session")
def shot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Shot:
    """Saves a page as ``NAME.png`` in ``--screenshots DIR``, else in a temporary directory:
    a test run never rewrites the tracked pictures."""
    chosen = request.config.getoption("screenshots")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"))

    return save


def unlabelled_inputs(page: Page) -> list[str]:
    """Form fields a screen reader could not name."""
    return page.evaluate(
        """[...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && !el.labels.length
                    && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML)"""
    )


def test_browse_search_read_and_cite(page: Page, shot: Shot):
    top = hf_response("2026-04-24")[0]["paper"]

    page.goto("/")
    expect(page.locator("h1")).to_contain_text("Daily papers")
    expect(page.locator("ol.papers h2").first).to_contain_text(top["title"])
    shot(page, "home")
    assert unlabelled_inputs(page) == []
    for landmark in ("banner", "main", "contentinfo", "search"):
        expect(page.get_by_role(landmark).first).to_be_visible()
    page.keyboard.press("Tab")  # the first stop is the skip link
    expect(page.locator(".skip-link")).to_be_focused()

    page.get_by_role("link", name="← Previous day").click()
    expect(page).to_have_url(re.compile(r"/papers/date/2025-04-09$"))
    expect(page.locator("ol.papers > li").first).to_be_visible()
    shot(page, "previous-day")

    word = "benchmark"
    page.get_by_label("Search papers").fill(word)
    page.get_by_label("Search papers").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=benchmark"))
    expect(page.locator("ol.papers mark").first).to_be_visible()
    assert unlabelled_inputs(page) == []
    shot(page, "search")

    page.locator("ol.papers h2 a").first.click()
    expect(page).to_have_url(re.compile(r"/papers/\d{4}\.\d{4,5}$"))
    expect(page.locator("#paper-title")).to_be_visible()

    page.goto(f"/papers/{top['id']}")
    expect(page.locator("#paper-title")).to_have_text(top["title"])
    expect(page.get_by_role("link", name="Project page")).to_be_visible()
    shot(page, "paper")

    page.goto(f"/papers/{OLD_STYLE.id}")
    expect(page.locator("#paper-title .katex").first).to_be_visible()
    assert page.locator(".abstract-full .katex").count() >= 1
    assert "$" not in page.locator(".abstract-full").inner_text()
    shot(page, "math")

    page.get_by_role("button", name="Copy BibTeX").click()
    expect(page.locator("#copy-status")).to_contain_text("copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@misc{") and "hep-th/9901001" in copied

    page.get_by_role("list", name="Authors").get_by_role("link", name="Ada Example").click()
    expect(page).to_have_url(re.compile(r"/authors/Ada%20Example$"))
    expect(page.locator("h1")).to_contain_text("Ada Example")
    shot(page, "author")


def test_phone_layout_and_dark_mode(browser: Browser, live_url: str, shot: Shot):
    context = browser.new_context(
        base_url=live_url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        color_scheme="dark",
    )
    try:
        phone = context.new_page()
        for path, name in (("/", "phone-home"), (f"/papers/{OLD_STYLE.id}", "phone-paper")):
            phone.goto(path)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways on a phone"
            shot(phone, name)
        background = phone.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)"  # the dark palette
    finally:
        context.close()


def test_api_docs_render_under_the_content_security_policy(page: Page):
    page.goto("/docs")
    expect(page.get_by_text("/api/daily_papers").first).to_be_visible()
