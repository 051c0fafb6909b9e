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
from tests.web.test_accounts import HTML, PASSWORD, csrf_of, post_form, sign_up

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


def log_in_admin(client: httpx.Client, store: Store, settings: Settings) -> None:
    Accounts(store, settings).create("root@lab.example", password=PASSWORD, name="root", admin=True)
    done = post_form(client, "/login", "/login", email="root@lab.example", password=PASSWORD)
    assert done.status_code == 303


def test_admins_add_a_paper_that_is_not_on_arxiv_with_the_form(site) -> None:
    url, store, settings = site
    with browser(url) as client:
        sign_up(client, "dee@lab.example", "dee")
        assert "Add a paper that is not on arXiv" not in client.get("/submit").text
        token = csrf_of(client.get("/submit"))
        fields = {"doi": "10.1000/xyz.123", "title": "A workshop paper"}
        refused = client.post("/papers/add", data={"csrftoken": token, **fields})
        assert refused.status_code == 403
        client.post("/logout", data={"csrftoken": token})
    with browser(url) as client:
        log_in_admin(client, store, settings)
        assert "Add a paper that is not on arXiv" in client.get("/submit").text
        # Without the CSRF token: refused, nothing written.
        assert client.post("/papers/add", data=fields).status_code == 403
        assert store.get_paper("doi:10.1000/xyz.123") is None
        # Bad input: the form again, filled in, with the reason.
        bad = post_form(client, "/papers/add", "/submit", **{**fields, "doi": "not a doi"})
        assert bad.status_code == 400 and "not a DOI" in bad.text
        assert 'value="A workshop paper"' in bad.text
        bad_day = post_form(client, "/papers/add", "/submit", **fields, published="2026-02-30")
        assert bad_day.status_code == 400 and "YYYY-MM-DD" in bad_day.text
        bad_link = post_form(client, "/papers/add", "/submit", **fields, url="javascript:x")
        assert bad_link.status_code == 400 and "http(s)" in bad_link.text
        untitled = post_form(client, "/papers/add", "/submit", **{**fields, "title": " "})
        assert untitled.status_code == 400 and "title" in untitled.text
        assert store.get_paper("doi:10.1000/xyz.123") is None
        done = post_form(
            client,
            "/papers/add",
            "/submit",
            **fields,
            authors="Ada Example\nBo Sample\n",
            abstract="Not on arXiv.",
            url="https://example.org/paper.pdf",
            published=FRESH,
        )
        assert done.status_code == 303 and done.headers["location"] == "/papers/doi:10.1000/xyz.123"
        page = client.get(done.headers["location"])
        assert page.status_code == 200 and "A workshop paper" in page.text
        assert "Bo Sample" in page.text
        assert "A workshop paper" in client.get(f"/papers/date/{TODAY}").text
        again = post_form(client, "/papers/add", "/submit", **fields)
        assert again.status_code == 409 and "already submitted" in again.text
    paper = store.get_paper("doi:10.1000/xyz.123")
    assert paper is not None and paper.authors == ["Ada Example", "Bo Sample"]
    assert paper.doi == "10.1000/xyz.123" and paper.published == FRESH


def test_a_hidden_paper_is_404_to_readers_and_on_no_list(site) -> None:
    url, store, settings = site
    store.upsert_papers(
        [
            Paper(
                id="2604.00004",
                title="Spam to hide",
                authors=["Mallory Example"],
                listed=FRESH,
                categories=["math.AG"],
                submitted_on=FRESH,
            )
        ]
    )
    shown = {
        "/papers/2604.00004": "Spam to hide",
        "/api/papers/2604.00004": "Spam to hide",
        "/papers/2604.00004.md": "Spam to hide",
        "/papers/2604.00004.bib": "Spam to hide",
        "/bibtex?ids=2604.00004": "Spam to hide",
        f"/papers/date/{FRESH}": "Spam to hide",
        f"/api/daily_papers?date={FRESH}": "Spam to hide",
        f"/papers/new/{FRESH}": "Spam to hide",
        "/papers/trending": "Spam to hide",
        "/authors/Mallory Example": "Spam to hide",
        "/categories/math.AG": "Spam to hide",
        "/feeds/categories/math.AG.atom": "Spam to hide",
        "/feeds/daily.xml": "Spam to hide",
    }
    with browser(url) as client:
        for path, text in shown.items():
            answer = client.get(path)
            assert answer.status_code == 200 and text in answer.text, path
        log_in_admin(client, store, settings)
        page = client.get("/papers/2604.00004")
        hidden = client.post(
            "/papers/2604.00004/hide", data={"csrftoken": csrf_of(page), "hidden": "1"}
        )
        assert hidden.status_code == 303
        # The admin still sees it, to show it again.
        page = client.get("/papers/2604.00004")
        assert page.status_code == 200 and "Hidden by an admin" in page.text
    with browser(url) as client:
        for path, text in shown.items():
            answer = client.get(path)
            if path.startswith(("/papers/2604", "/api/papers/2604", "/bibtex")):
                assert answer.status_code == 404, path
            else:
                assert answer.status_code == 200, path
            assert text not in answer.text, path
        assert client.post("/api/papers/2604.00004/upvote").status_code in (401, 403, 404)
    assert store.get_paper("2604.00004").hidden
    with browser(url) as client:
        post_form(client, "/login", "/login", email="root@lab.example", password=PASSWORD)
        page = client.get("/papers/2604.00004")
        restored = client.post(
            "/papers/2604.00004/hide", data={"csrftoken": csrf_of(page), "hidden": "0"}
        )
        assert (restored.status_code, restored.headers["location"]) == (
            303,
            "/papers/2604.00004",
        )
    with browser(url) as client:
        assert "Spam to hide" in client.get("/authors/Mallory Example").text
        assert client.get("/api/papers/2604.00004").status_code == 200


def test_the_upvote_form_past_the_vote_limit_is_429_and_makes_no_vote(
    store: Store, tmp_path: Path
) -> None:
    """The form's limit is counted in the vote's own transaction, as the API's is: the
    refused click answers 429 with Retry-After and leaves the count as it was."""
    store.upsert_papers([Paper(id="2604.00009", title="Limited", submitted_on=FRESH)])
    settings = Settings(home=tmp_path, rate_vote="1/minute", rate_vote_ip="")
    with serving(create_app(settings, store)) as url, browser(url) as client:
        assert sign_up(client, "lim@lab.example", "lim").status_code == 303
        voted = post_form(client, "/papers/2604.00009/upvote", "/papers/2604.00009", up="1")
        assert voted.status_code == 303
        refused = post_form(client, "/papers/2604.00009/upvote", "/papers/2604.00009", up="0")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert store.community.vote_counts() == {"2604.00009": 1}
