"""The topic map and trends in Debian's Chromium (Playwright): points are drawn, hovering
one shows its paper's title, clicking it opens the paper; screenshots of both pages go to
the screenshot folder (``make screenshots``: docs/screenshots)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from paperstand.settings import Settings
from paperstand.store import open_store
from paperstand.topics.service import build_topics
from paperstand.web.app import create_app
from tests.topics import slice as real
from tests.web.conftest import browser_sign_up, serving
from tests.web.test_browser import Shot, browser, shot  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def topics_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("topics-web")
    settings = Settings(home=home, embedding_model=real.MODEL, topics_clusters=8)
    store = open_store(settings.store_url())
    try:
        real.load(store)
        build_topics(store, settings)
        with serving(create_app(settings, store=store)) as url:
            yield url
    finally:
        store.close()


@pytest.fixture
def page(browser: Browser, topics_url: str) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=topics_url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        yield opened
        assert problems == []  # no CSP violation, no script error
    finally:
        context.close()


def point_on_screen(page: Page, paper_id: str) -> tuple[float, float]:
    """Where the map draws this paper's point, in page pixels (from ECharts itself)."""
    return tuple(
        page.evaluate(
            """(id) => {
                const box = document.getElementById('topic-map');
                const chart = echarts.getInstanceByDom(box);
                const series = chart.getOption().series[0].data;
                const point = series.find(p => p[3] === window.__ids.indexOf(id));
                const [x, y] = chart.convertToPixel({seriesIndex: 0}, [point[0], point[1]]);
                const rect = box.getBoundingClientRect();
                return [rect.left + x, rect.top + y];
            }""",
            paper_id,
        )
    )


def test_the_map_draws_points_shows_titles_and_opens_papers(page: Page, shot: Shot):  # noqa: F811
    page.goto("/map")
    box = page.locator("#topic-map")
    expect(box).to_have_attribute("data-ready", "true", timeout=30_000)
    assert box.get_attribute("data-points") == "480"
    expect(box.locator("canvas").first).to_be_visible()
    shot(page, "topic-map")

    # A paper whose point no other point hides: the one farthest from its nearest neighbour.
    ids = page.evaluate("fetch('/api/topics/map').then(r => r.json())")
    page.evaluate("(ids) => { window.__ids = ids; }", ids["ids"])
    coords = list(zip(ids["x"], ids["y"], strict=True))
    lonely = max(
        range(len(coords)),
        key=lambda n: min(
            (coords[n][0] - x) ** 2 + (coords[n][1] - y) ** 2
            for m, (x, y) in enumerate(coords)
            if m != n
        ),
    )
    paper_id = ids["ids"][lonely]
    title = next(p.title for p in real.papers() if p.id == paper_id)
    x, y = point_on_screen(page, paper_id)
    page.mouse.move(x, y)
    expect(page.locator("#topic-map")).to_contain_text(title[:40], timeout=15_000)
    shot(page, "topic-map-hover")

    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(rf"/papers/{re.escape(paper_id)}$"))
    expect(page.locator("#paper-title")).to_contain_text(title[:40])
    # The paper's own topic (its similar papers' cards carry badges of their own).
    expect(page.locator("p:has-text('Topic:') > .topic-badge")).to_be_visible()


def test_the_latest_day_layer_rings_that_days_papers(page: Page):
    page.goto("/map")
    expect(page.locator("#topic-map")).to_have_attribute("data-ready", "true", timeout=30_000)
    latest = max(r["listed"] for r in real.rows())
    expected = sum(1 for r in real.rows() if r["listed"] == latest)
    page.get_by_label("Highlight").select_option("latest")
    expect(page.locator("#map-status")).to_have_text(f"{expected} papers of the latest day ringed.")


def test_the_saved_layer_rings_a_readers_saved_papers(page: Page):
    browser_sign_up(page, "ada")
    expect(page).to_have_url(re.compile(r"/$"))
    saved = [r["id"] for r in real.rows()][:2]
    for paper_id in saved:
        page.goto(f"/papers/{paper_id}")
        page.locator(f"form[action='/papers/{paper_id}/save'] button").first.click()
        expect(
            page.locator(f"form[action='/papers/{paper_id}/save'] button").first
        ).to_have_attribute("aria-pressed", "true")
    page.goto("/map")
    expect(page.locator("#topic-map")).to_have_attribute("data-ready", "true", timeout=30_000)
    page.get_by_label("Highlight").select_option("saved")
    expect(page.locator("#map-status")).to_have_text("2 of your saved papers ringed.")


def test_trends_page_draws_its_charts(page: Page, shot: Shot):  # noqa: F811
    page.goto("/trends")
    for chart in ("#chart-clusters", "#chart-categories"):
        expect(page.locator(chart)).to_have_attribute("data-ready", "true", timeout=30_000)
        expect(page.locator(f"{chart} canvas").first).to_be_visible()
    expect(page.locator("ol.rising li").first).to_be_visible()
    shot(page, "trends")
