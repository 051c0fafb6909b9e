"""The HTML pages: content, navigation, escaping, security headers, caching."""

from __future__ import annotations

import re

import pytest

from paperstand.models import Paper
from paperstand.store import open_store
from paperstand.web.app import CONTENT_SECURITY_POLICY
from tests.web.conftest import OLD_STYLE, hf_response

HTML = {"accept": "text/html"}


def test_home_shows_the_latest_day_ranked_with_links_to_the_previous_day(client):
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    recorded = hf_response("2026-04-24")
    titles = re.findall(r'<a href="/papers/[^"]+">([^<]+)</a>\s*</h2>', page.text)
    assert titles[0] == recorded[0]["paper"]["title"]
    assert 'href="/papers/date/2025-04-09"' in page.text  # skips the empty days between
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert '<main id="main"' in page.text and 'role="search"' in page.text
    assert 'rel="alternate" type="application/rss+xml"' in page.text


def test_day_week_month_and_trending_pages(client):
    day = client.get("/papers/date/2025-04-09", headers=HTML).text  # curated days around it
    assert 'href="/papers/date/2025-03-27"' in day and 'href="/papers/date/2026-04-24"' in day
    assert 'href="/papers/week/2025-W15"' in day and 'href="/papers/month/2025-04"' in day
    week = client.get("/papers/week/2025-W13", headers=HTML)
    assert week.status_code == 200 and "2025-W13" in week.text
    assert 'href="/papers/week/2025-W15"' in week.text  # the next week that has papers
    assert client.get("/papers/month/2025-04", headers=HTML).status_code == 200
    trending = client.get("/papers/trending", headers=HTML).text
    assert hf_response("2026-04-24")[0]["paper"]["title"] in trending
    empty = client.get("/papers/date/2025-01-01", headers=HTML)
    assert empty.status_code == 200 and "No papers on this day" in empty.text
    assert 'href="/papers/date/2025-03-27"' in empty.text  # the first curated day after


def test_the_date_picker_form_redirects_to_the_day(client):
    response = client.get("/papers/date", params={"day": "2025-03-24"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/papers/date/2025-03-24"
    assert client.get("/papers/date", params={"day": "nope"}).status_code == 400


def test_paper_page_has_everything_hugging_face_shows(client):
    item = hf_response("2026-04-24")[0]["paper"]
    page = client.get(f"/papers/{item['id']}", headers=HTML).text
    assert item["title"] in page
    for author in item["authors"]:
        assert f'href="/authors/{author["name"].replace(" ", "%20")}"' in page
    assert f"https://arxiv.org/abs/{item['id']}" in page
    assert f"https://arxiv.org/pdf/{item['id']}" in page
    assert item["projectPage"] in page and item["ai_summary"] in page
    assert f'<dd class="upvotes" id="votes">{item["upvotes"]} ' in page
    assert f"{item['upvotes']} on Hugging Face" in page
    assert item["submittedOnDailyBy"]["user"] in page
    assert 'id="bibtex-text"' in page and "data-copy=" in page


def test_old_style_ids_with_a_slash_and_versions(client):
    page = client.get(f"/papers/{OLD_STYLE.id}", headers=HTML)
    assert page.status_code == 200 and "Anomalies and" in page.text
    assert client.get(f"/papers/{OLD_STYLE.id}v3", headers=HTML).status_code == 200
    assert client.get("/papers/hep-th/9999999", headers=HTML).status_code == 404


def test_author_and_category_pages(client):
    page = client.get("/authors/Ada%20Example", headers=HTML).text
    assert "Anomalies and" in page
    cat = client.get("/categories/hep-th", headers=HTML).text
    assert "Anomalies and" in cat and 'href="/feeds/categories/hep-th.xml"' in cat
    nobody = client.get("/authors/Nobody%20Atall", headers=HTML)
    assert nobody.status_code == 200 and "No papers by this author" in nobody.text


def test_everything_from_papers_is_escaped(client, web_settings):
    nasty = Paper(
        id="2503.99999",
        title='<script>alert("t")</script> & <b>bold</b>',
        authors=["<img src=x onerror=alert(1)>"],
        abstract="x < y && </p><script>alert(2)</script>",
        categories=["cs.CR"],
        listed="2025-03-26",
    )
    store = open_store(web_settings.store_url())
    try:
        store.upsert_papers([nasty])
    finally:
        store.close()
    for path in (
        "/papers/2503.99999",
        "/papers/date/2025-03-26",
        "/categories/cs.CR",
        "/search?q=%3Cscript%3Ealert",
    ):
        text = client.get(path, headers=HTML).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
    assert "&lt;script&gt;alert(&#34;t&#34;)" in client.get("/papers/2503.99999", headers=HTML).text


def test_pages_are_cached_until_the_store_changes(client, web_settings):
    first = client.get("/papers/date/2025-03-24", headers=HTML)
    assert client.get("/papers/date/2025-03-24", headers=HTML).text == first.text
    etag = first.headers["etag"]
    again = client.get("/papers/date/2025-03-24", headers={**HTML, "if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    store = open_store(web_settings.store_url())
    try:
        store.upsert_papers(
            [
                Paper(
                    id="2503.88888",
                    title="Freshly ingested paper",
                    listed="2025-03-24",
                    submitted_on="2025-03-24",
                    upvotes=99,
                )
            ]
        )
    finally:
        store.close()
    fresh = client.get("/papers/date/2025-03-24", headers={**HTML, "if-none-match": etag})
    assert fresh.status_code == 200 and "Freshly ingested paper" in fresh.text
    assert fresh.headers["etag"] != etag


def test_search_page_highlights_and_pages(client):
    title = hf_response("2025-04-09")[0]["paper"]["title"]
    word = max(re.findall(r"[A-Za-z]{5,}", title), key=len)
    page = client.get("/search", params={"q": word}, headers=HTML).text
    assert f"<mark>{word}" in page or f"<mark>{word.lower()}" in page.lower()
    assert 'rel="alternate" type="application/rss+xml"' in page and "/feeds/search.xml?q=" in page
    empty = client.get("/search", headers=HTML)
    assert empty.status_code == 200 and 'id="q"' in empty.text


@pytest.mark.parametrize(
    "path",
    [
        "/papers/date/2025-02-30",
        "/papers/week/2025-W99",
        "/papers/month/2025-13",
        "/search?since=yesterday&q=x",
        "/search?q=x&page=51",  # past the best 1,000 results
        "/papers/trending?page=0",
    ],
)
def test_bad_page_parameters_get_an_html_error_page(client, path):
    response = client.get(path, headers=HTML)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("text/html")
    assert "<main" in response.text


def test_static_files_include_katex(client):
    for path in (
        "/static/katex/katex.min.js",
        "/static/katex/katex.min.css",
        "/static/katex/auto-render.min.js",
        "/static/app.js",
        "/static/style.css",
        "/static/katex/fonts/KaTeX_Main-Regular.woff2",
    ):
        assert client.get(path).status_code == 200, path
