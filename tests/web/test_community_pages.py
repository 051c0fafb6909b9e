"""The community as a browser uses it, over real HTTP on both backends: the forms (with their
CSRF tokens) to submit, upvote and comment, hostile comments shown inert, New on arXiv, the
curated daily list with "submitted by", and trending's "why is this here" line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from paperstand.accounts.service import Accounts
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import serving
from tests.web.test_accounts import HTML, csrf_of, post_form, sign_up

pytestmark = pytest.mark.usefixtures("fast_passwords")

TODAY = datetime.now(UTC).date().isoformat()
FRESH = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
HOSTILE = '<script>alert("x")</script> <img src=x onerror="alert(1)"> **fine**'


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[tuple[str, Store, Settings]]:
    settings = Settings(home=tmp_path, rate_vote="1000/minute", rate_comment="1000/minute")
    store.upsert_papers(
        [
            Paper(id="2604.00001", title="Featured", submitted_on=FRESH, upvotes=4),
            Paper(
                id="2604.00002",
                title="Fresh on arXiv",
                published=FRESH,
                listed=FRESH,
                categories=["cs.LG", "stat.ML"],
            ),
            Paper(id="2604.00003", title="Also listed", listed=FRESH, categories=["math.AG"]),
        ]
    )
    with serving(create_app(settings, store)) as url:
        yield url, store, settings


def browser(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=HTML, follow_redirects=False, timeout=30)


def test_sign_up_submit_upvote_comment_log_out(site) -> None:
    url, store, _ = site
    with browser(url) as client:
        assert sign_up(client, "ada@lab.example", "ada").status_code == 303
        done = post_form(client, "/submit", "/submit", paper="https://arxiv.org/abs/2604.00002")
        assert (done.status_code, done.headers["location"]) == (303, "/papers/2604.00002")
        page = client.get("/papers/2604.00002")
        assert "submitted by" in page.text.lower() or "Submitted by" in page.text
        assert re.search(r'class="submitter">ada on', page.text)

        voted = post_form(client, "/papers/2604.00002/upvote", "/papers/2604.00002", up="1")
        assert voted.status_code == 303
        # The second click of a double click: still one vote.
        post_form(client, "/papers/2604.00002/upvote", "/papers/2604.00002", up="1")
        page = client.get("/papers/2604.00002")
        assert "1 here · 0 on Hugging Face" in page.text and "Remove my upvote" in page.text

        made = post_form(client, "/papers/2604.00002/comments", "/papers/2604.00002", text=HOSTILE)
        assert made.status_code == 303 and "#comment-" in made.headers["location"]
        page = client.get("/papers/2604.00002")
        body = page.text.split('id="comments"', 1)[1]
        assert "<script>alert" not in body and "<img" not in body
        assert "&lt;script&gt;" in body and "<strong>fine</strong>" in body

        daily = client.get(f"/papers/date/{TODAY}")
        assert "Fresh on arXiv" in daily.text and "submitted by ada" in daily.text
        assert "1 comment" in daily.text

        out = client.post("/logout", data={"csrftoken": csrf_of(page)})
        assert out.status_code == 303
        assert "Log in to upvote" in client.get("/papers/2604.00002").text
    assert store.community.vote_counts() == {"2604.00002": 1}


def test_forms_without_a_csrf_token_are_refused(site) -> None:
    url, store, _ = site
    with browser(url) as client:
        sign_up(client, "bo@lab.example", "bo")
        for path, data in (
            ("/papers/2604.00001/upvote", {"up": "1"}),
            ("/papers/2604.00001/comments", {"text": "no token"}),
            ("/submit", {"paper": "2604.00002"}),
        ):
            refused = client.post(path, data=data)
            assert refused.status_code == 403, path
    assert store.community.vote_counts() == {}
    assert store.community.comments("2604.00001") == []
    assert store.community.submission("2604.00002") is None


def test_a_banned_account_cannot_post_forms(site) -> None:
    url, store, settings = site
    with browser(url) as client:
        sign_up(client, "eve@lab.example", "eve")
        Accounts(store, settings).set_banned("eve@lab.example", True)
        page = client.get("/papers/2604.00001")
        refused = client.post(
            "/papers/2604.00001/comments", data={"csrftoken": csrf_of(page), "text": "spam"}
        )
        assert refused.status_code == 403
    assert store.community.comments("2604.00001") == []


def test_refused_submissions_say_why(site) -> None:
    url, store, _ = site
    with browser(url) as client:
        sign_up(client, "cy@lab.example", "cy")
        featured = post_form(client, "/submit", "/submit", paper="2604.00001")
        assert featured.status_code == 409 and "featured by Hugging Face" in featured.text
        old = post_form(client, "/submit", "/submit", paper="1707.08567")
        assert old.status_code == 422 and "days old" in old.text
        nonsense = post_form(client, "/submit", "/submit", paper="<b>not an id</b>")
        assert nonsense.status_code == 400 and "&lt;b&gt;" in nonsense.text


def test_new_on_arxiv_and_trending_pages(site) -> None:
    url, _, _ = site
    with browser(url) as client:
        assert client.get("/papers/new").headers["location"] == f"/papers/new/{FRESH}"
        page = client.get(f"/papers/new/{FRESH}")
        assert "Fresh on arXiv" in page.text and "Also listed" in page.text
        filtered = client.get(f"/papers/new/{FRESH}", params={"category": "stat.ML"})
        assert "Fresh on arXiv" in filtered.text and "Also listed" not in filtered.text
        bad = client.get(f"/papers/new/{FRESH}", params={"category": "<x>"})
        assert bad.status_code == 422
        # The curated list of that day: only the featured paper, not arXiv's whole day.
        daily = client.get(f"/papers/date/{FRESH}")
        assert "Featured" in daily.text and "Also listed" not in daily.text
        trending = client.get("/papers/trending")
        assert "Why is this here:" in trending.text
        assert "0 votes here, 4 on Hugging Face" in trending.text
