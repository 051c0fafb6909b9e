"""Saved papers and reading lists in a real browser (Debian's Chromium through Playwright),
on both backends: save from a list page in place (JavaScript), make a list, reorder it with
the keyboard and by drag and drop, write a note, make it public, upload a BibTeX file, read
its feed and its BibTeX as a visitor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest
from playwright.sync_api import Browser, Page, expect

from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import browser_sign_up, serving, watched_tab
from tests.web.test_browser import browser  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.usefixtures("fast_passwords")

DAY = "2026-04-29"


@pytest.fixture
def site(browser: Browser, store: Store, tmp_path: Path) -> Iterator[tuple[Page, str, list[str]]]:  # noqa: F811
    store.upsert_papers(
        [
            Paper(id=f"2604.0000{n}", title=f"Paper {n}", authors=["Ada"], submitted_on=DAY)
            for n in (1, 2, 3, 4)
        ]
    )
    settings = Settings(home=tmp_path, search_fetch_missing=False)
    with (
        serving(create_app(settings, store)) as url,
        watched_tab(browser, url) as (opened, problems),
    ):
        yield opened, url, problems


def test_save_make_reorder_publish_and_read_a_list(
    site: tuple[Page, str, list[str]],
    store: Store,
    browser: Browser,  # noqa: F811
) -> None:
    tab, url, problems = site
    browser_sign_up(tab, "ada")

    tab.goto(f"/papers/date/{DAY}")
    save = tab.get_by_role("button", name="Save: Paper 2")
    save.click()  # in place: the page stays, the button says so
    expect(tab.get_by_role("button", name="Saved: Paper 2")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(tab).to_have_url(f"/papers/date/{DAY}")
    assert [p for p in store.library.saved(1)] == ["2604.00002"]

    tab.goto("/lists")
    tab.get_by_label("Name").fill("Reading group")
    tab.get_by_role("button", name="Make the list").click()
    list_path = tab.url.removeprefix(url)
    for n in (1, 2, 3):
        tab.get_by_label("arXiv id, link or DOI").fill(f"2604.0000{n}")
        tab.get_by_role("button", name="Add", exact=True).click()

    # Reorder with the keyboard: focus "Move down" of the first paper, press Enter.
    tab.get_by_role("button", name="Move down: Paper 1").focus()
    tab.keyboard.press("Enter")
    expect(tab.locator(".pid")).to_have_text(["2604.00002", "2604.00001", "2604.00003"])

    # And by dragging a row's handle: the third paper dropped on the top of the first.
    tab.set_viewport_size({"width": 1280, "height": 1200})  # every row in view
    tab.evaluate("window.scrollTo(0, 0)")
    rows = tab.locator("ol.reading > li")
    handle = rows.nth(2).locator(".drag-handle").bounding_box()
    top = rows.nth(0).bounding_box()
    tab.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    tab.mouse.down()
    tab.mouse.move(top["x"] + 40, top["y"] + 20, steps=8)  # over the top half of row 1
    tab.mouse.move(top["x"] + 40, top["y"] + 5, steps=2)
    tab.mouse.up()
    expect(tab.locator("ol.reading")).to_have_attribute("data-moved", "1")
    expect(tab.locator(".rank")).to_have_text(["1.", "2.", "3."])
    assert [i.paper_id for i in store.library.items(1)] == [
        "2604.00003",
        "2604.00002",
        "2604.00001",
    ]
    tab.reload()
    expect(tab.locator(".pid")).to_have_text(["2604.00003", "2604.00002", "2604.00001"])

    # A note: the row's Note link opens its editor; saving comes back to the row.
    tab.get_by_role("link", name="Edit the note on: Paper 2").click()
    tab.get_by_label("Note").fill("Read the appendix first")
    tab.keyboard.press("Tab")
    tab.keyboard.press("Enter")  # the focused Save note button
    expect(tab).to_have_url(f"{url}{list_path}#item-1")
    expect(tab.locator("#item-1 .note")).to_have_text("Read the appendix first")

    tab.get_by_label("Public").check()
    tab.get_by_role("button", name="Save changes").click()
    expect(tab.locator(".list-head .sub")).to_contain_text("public list by ada")

    # Import a BibTeX file: the browser uploads it as a multipart form.
    tab.get_by_label("and/or choose a BibTeX file").set_input_files(
        files=[
            {
                "name": "zotero.bib",
                "mimeType": "application/x-bibtex",
                "buffer": b"@misc{a, eprint={2604.00004}}\n@article{b, title={No id}}\n",
            }
        ]
    )
    tab.get_by_role("button", name="Import").click()
    expect(tab.locator("main")).to_contain_text("1 paper added")
    expect(tab.locator(".problems")).to_contain_text("entry b")
    assert problems == []

    visitor = browser.new_context(base_url=url)
    try:
        other = visitor.new_page()
        other.goto(list_path)
        order = ["2604.00003", "2604.00002", "2604.00001", "2604.00004"]
        expect(other.locator(".pid")).to_have_text(order)
        feed = other.request.get(f"{list_path}.xml")
        assert feed.ok and feed.text().count("<item>") == 4
        parsed = bibtexparser.parse_string(other.request.get(f"{list_path}.bib").text())
        assert [e.fields_dict["eprint"].value for e in parsed.entries] == order
    finally:
        visitor.close()
