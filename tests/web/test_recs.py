""" "For you" over real HTTP on both backends, with 480 real arXiv papers and their vectors:
onboarding for a new reader, the page with reasons and thumbs (CSRF forms), the private
RSS feed, and ``GET /api/recommendations`` with a Bearer token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paperstand.accounts.service import Accounts
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.topics import slice as data
from tests.web.conftest import serving
from tests.web.test_accounts import HTML, csrf_of, sign_up

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[tuple[str, Store, Settings]]:
    settings = Settings(home=tmp_path, embedding_model=data.MODEL)
    data.load(store)
    with serving(create_app(settings, store)) as url:
        yield url, store, settings


def test_a_new_reader_is_onboarded_then_gets_picks_with_reasons_and_thumbs(site) -> None:
    url, store, _ = site
    with httpx.Client(base_url=url, headers=HTML, timeout=60) as browser:
        assert sign_up(browser, "ada@lab.example", "ada").status_code == 303
        first = browser.get("/for-you", follow_redirects=False)
        assert (first.status_code, first.headers["location"]) == (303, "/for-you/start")
        start = browser.get("/for-you/start")
        offered = re.findall(r'name="pick" value="([^"]+)"', start.text)
        assert len(offered) >= 5
        too_few = browser.post(
            "/for-you/start", data={"csrftoken": csrf_of(start), "pick": offered[:2]}
        )
        assert too_few.status_code == 400 and "at least 5" in too_few.text
        done = browser.post(
            "/for-you/start",
            data={"csrftoken": csrf_of(start), "pick": offered[:5]},
            follow_redirects=False,
        )
        assert (done.status_code, done.headers["location"]) == (303, "/for-you")
        page = browser.get("/for-you")
        assert page.status_code == 200 and "Why is this here" in page.text
        # The cards see the signed-in reader: Save is a form, not a link to log in.
        assert "Log in to save" not in page.text and 'class="save" method="post"' in page.text
        liked_links = set(re.findall(r'you liked <a href="/papers/([^"]+)"', page.text))
        assert liked_links and liked_links <= set(offered[:5])
        shown = re.findall(r'name="paper" value="([^"]+)"', page.text)
        assert shown and set(shown).isdisjoint(offered[:5])

        down = browser.post(
            "/for-you/feedback",
            data={"csrftoken": csrf_of(page), "paper": shown[0], "value": "-1"},
            follow_redirects=False,
        )
        assert down.status_code == 303
        assert shown[0] not in re.findall(
            r'name="paper" value="([^"]+)"', browser.get("/for-you").text
        )
        forged = browser.post("/for-you/feedback", data={"paper": shown[1], "value": "-1"})
        assert forged.status_code == 403

        made = browser.post("/for-you/feed-token", data={"csrftoken": csrf_of(page)})
        feed_url = re.search(r"<code>(http[^<]+/feeds/for-you/[^<]+\.xml)</code>", made.text)
        assert feed_url, made.text
    rss = httpx.get(feed_url.group(1), timeout=60)
    assert rss.status_code == 200 and rss.headers["content-type"].startswith("application/rss")
    assert rss.text.count("<item>") >= 5 and shown[1] in rss.text
    unknown = httpx.get(f"{url}/feeds/for-you/psf_nothing.xml", timeout=60)
    assert unknown.status_code == 404 and "error" in unknown.json()


def test_the_api_needs_a_token_and_onboards_a_reader_without_signals(site) -> None:
    url, store, settings = site
    accounts = Accounts(store, settings)
    user = accounts.create("bo@lab.example", name="bo")
    token = accounts.new_api_token(user, "tests")[1]
    anonymous = httpx.get(f"{url}/api/recommendations", timeout=60)
    assert anonymous.status_code == 401 and "error" in anonymous.json()
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    with api:
        empty = api.get("/api/recommendations").json()
        assert empty["onboarding"] is True and empty["recommendations"] == []
        gnn = [r["id"] for r, g in zip(data.rows(), data.is_gnn(), strict=True) if g][:5]
        for paper_id in gnn:
            assert api.post(f"/api/papers/{paper_id}/upvote").status_code == 200
        found = api.get("/api/recommendations", params={"days": 14, "limit": 5}).json()
        assert found["onboarding"] is False and len(found["recommendations"]) == 5
        assert (found["first"], found["last"]) == ("2026-03-18", "2026-03-31")
        for pick in found["recommendations"]:
            liked = [r["id"] for r in pick["reasons"] if r["kind"] == "liked"]
            assert liked and set(liked) <= set(gnn)
            assert pick["paper"]["id"] not in gnn
        top = found["recommendations"][0]["paper"]["id"]
        thumbed = api.post("/api/recommendations/feedback", json={"id": top, "value": -1})
        assert thumbed.status_code == 204
        again = api.get("/api/recommendations", params={"days": 14, "limit": 5}).json()
        assert top not in [pick["paper"]["id"] for pick in again["recommendations"]]
        unknown = api.post("/api/recommendations/feedback", json={"id": "2603.99999", "value": 1})
        assert unknown.status_code == 404 and "error" in unknown.json()
        bad = api.get("/api/recommendations", params={"days": 0})
        assert bad.status_code == 422 and "error" in bad.json()


def test_a_bibtex_file_of_ones_own_papers_onboards_and_reports_unusable_entries(site) -> None:
    url, store, _ = site
    mine = [r for r in data.rows() if r["listed"] < "2026-03-18"][:2]
    bib = "\n".join(
        [
            *(
                f"@article{{own{n}, title={{{r['title']}}}, eprint={{{r['id']}}}, "
                "archivePrefix={arXiv}}"
                for n, r in enumerate(mine)
            ),
            "@article{elsewhere, title={Not here}, eprint={2401.99999}, archivePrefix={arXiv}}",
            "@book{noid, title={A book without any identifier}}",
            "@article{broken, title={unclosed",
        ]
    )
    with httpx.Client(base_url=url, headers=HTML, timeout=60) as browser:
        assert sign_up(browser, "ada@lab.example", "ada").status_code == 303
        start = browser.get("/for-you/start")
        assert 'name="bibtex"' in start.text
        done = browser.post("/for-you/start", data={"csrftoken": csrf_of(start), "bibtex": bib})
        assert done.status_code == 200, done.text
        assert "2 papers recorded" in done.text
        assert "entry elsewhere: 2401.99999 is not in this store" in done.text
        assert "entry noid: names no paper" in done.text
        feed = browser.get("/for-you")
        assert feed.status_code == 200 and "Why is this here" in feed.text
        shown = re.findall(r'name="paper" value="([^"]+)"', feed.text)
        assert shown and set(shown).isdisjoint(r["id"] for r in mine)
        only_bad = browser.post(  # the same form with an uploaded file (multipart)
            "/for-you/start",
            data={"csrftoken": csrf_of(start)},
            files={"bibfile": ("mine.bib", b"@book{x, title={y}}", "text/x-bibtex")},
        )
        assert only_bad.status_code == 400 and "entry x: names no paper" in only_bad.text
    ada = store.accounts.user_by_email("ada@lab.example")
    assert ada is not None
    assert set(store.recs.feedback(ada.id)) == {r["id"] for r in mine}
