"""Follows and author claims over real HTTP, on both backends: the Follow button's form, the
Following page and the header's count after an ingest, the settings page that removes
follows, claims approved on the moderation page changing the author page, a claimed author
hiding a paper, and the ``/api/follows`` API with its errors."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from paperstand.accounts.service import Accounts
from paperstand.ingest import ingest
from paperstand.models import Paper, User
from paperstand.settings import Settings
from paperstand.sources import jsonl
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import serving
from tests.web.test_accounts import HTML, PASSWORD, csrf_of, post_form, sign_up

pytestmark = pytest.mark.usefixtures("fast_passwords")

AUTHOR = "Zoë Ångström"


class Site:
    def __init__(self, url: str, store: Store, settings: Settings) -> None:
        self.url = url
        self.store = store
        self.accounts = Accounts(store, settings)

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=HTML, follow_redirects=False, timeout=30)

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def user(self, name: str, *, admin: bool = False) -> tuple[User, str]:
        user = self.accounts.create(
            f"{name}@lab.example", name=name, admin=admin, password=PASSWORD
        )
        return user, self.accounts.new_api_token(user, "tests")[1]


def listing(*papers: dict) -> None:
    return b"".join(orjson.dumps(p) + b"\n" for p in papers)


def arxiv(pid: str, title: str, authors: list[str], category: str = "cs.CL") -> dict:
    return {
        "id": pid,
        "title": title,
        "authors": authors,
        "categories": [category],
        "abstract": f"The abstract of {title}.",
        "published": "2026-04-01",
        "listed": "2026-04-02",
    }


def ingest_lines(store: Store, *papers: dict) -> None:
    report = ingest(store, jsonl.records(io.BytesIO(listing(*papers)), "listings"))
    assert report.error is None and report.written.added == len(papers)


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[Site]:
    settings = Settings(home=tmp_path, rate_follow="1000/minute", rate_claim="1000/minute")
    ingest_lines(
        store,
        arxiv("2604.00001", "An older paper", [AUTHOR, "Bo Sample"]),
        arxiv("2604.00002", "Another older paper", [AUTHOR], "math.AG"),
    )
    store.upsert_papers([Paper(id="2604.00001", title="An older paper", upvotes=7)])
    with serving(create_app(settings, store)) as url:
        yield Site(url, store, settings)


def log_in(client: httpx.Client, name: str) -> None:
    done = post_form(client, "/login", "/login", email=f"{name}@lab.example", password=PASSWORD)
    assert done.status_code == 303, done.text


def test_follow_an_author_and_see_their_new_paper_after_an_ingest(site: Site) -> None:
    with site.browser() as client:
        sign_up(client, "ada@lab.example", "ada")
        page = client.get("/authors/zoe angstrom")
        assert "Follow zoe angstrom" in page.text
        followed = post_form(
            client,
            "/follows",
            "/authors/zoe angstrom",
            kind="author",
            value="zoe angstrom",
            next="/authors/zoe%20angstrom",
        )
        assert (followed.status_code, followed.headers["location"]) == (
            303,
            "/authors/zoe%20angstrom",
        )
        assert "Unfollow zoe angstrom" in client.get("/authors/zoe angstrom").text
        # Following shows nothing yet: the author's papers are older than the follow.
        assert "Nothing new since your last visit" in client.get("/following").text
        assert 'class="badge"' not in client.get("/").text

        ingest_lines(
            site.store,
            arxiv("2604.00003", "A brand new result", ["ZOE ANGSTROM"]),
            arxiv("2604.00004", "Somebody else's", ["Cy Other"]),
        )
        home = client.get("/")
        assert re.search(r'<span class="badge"[^>]*>1</span>', home.text), home.text
        following = client.get("/following")
        assert "A brand new result" in following.text
        assert "Somebody else" not in following.text
        # The cards see the signed-in reader: Save is a form, not a link to log in.
        assert 'action="/papers/2604.00003/save"' in following.text
        assert "Log in to save" not in following.text
        assert following.headers["cache-control"] == "no-store"
        # Visited: the count is gone, a reload still shows what the visit found.
        assert 'class="badge"' not in client.get("/").text
        assert "A brand new result" in client.get("/following").text

        settings = client.get("/settings/follows")
        assert "zoe angstrom" in settings.text
        follow_id = site.store.follows.follows_of(_id(site, "ada"))[0].id
        removed = client.post(
            f"/follows/{follow_id}/delete",
            data={"csrftoken": csrf_of(settings), "next": "/settings/follows"},
        )
        assert removed.status_code == 303
        assert "You follow nothing yet" in client.get("/settings/follows").text


def _id(site: Site, name: str) -> int:
    return site.store.accounts.user_by_name(name).id


def test_follow_a_category_and_a_search_from_their_pages(site: Site) -> None:
    with site.browser() as client:
        sign_up(client, "ada@lab.example", "ada")
        assert "Follow math.AG" in client.get("/categories/math.AG").text
        post_form(client, "/follows", "/categories/math.AG", kind="category", value="math.AG")
        post_form(
            client,
            "/follows",
            "/search?q=older",
            kind="search",
            value="older paper",
            category="cs.CL",
            has_code="",
        )
        follows = site.store.follows.follows_of(_id(site, "ada"))
        assert [(f.kind, f.value, f.filters) for f in follows] == [
            ("category", "math.AG", {}),
            ("search", "older paper", {"category": "cs.CL"}),
        ]
        assert "Unfollow math.AG" in client.get("/categories/math.AG").text
        page = client.get("/following")
        assert "math.AG" in page.text and "older paper" in page.text
        # Bad input is a clear 4xx, never a 500.
        token = csrf_of(page)
        for data in (
            {"kind": "planet", "value": "Mars"},
            {"kind": "category", "value": "<script>"},
            {"kind": "search", "value": "x", "since": "2026-02-30"},
            {"kind": "author", "value": "   "},
        ):
            refused = client.post("/follows", data={"csrftoken": token, **data})
            assert refused.status_code in (400, 422), (data, refused.status_code)
        gone = client.post("/follows/999999/delete", data={"csrftoken": token})
        assert gone.status_code == 404
        assert client.post("/follows", data={"kind": "author", "value": "x"}).status_code == 403


def test_anonymous_visitors_are_asked_to_log_in(site: Site) -> None:
    with site.browser() as client:
        assert client.get("/following").headers["location"] == "/login?next=/following"
        assert "Log in to follow" in client.get("/authors/Bo Sample").text
        assert client.get("/moderation/claims").status_code == 401


def test_claim_approve_and_the_author_page_changes(site: Site) -> None:
    site.user("root", admin=True)
    with site.browser() as ada:
        sign_up(ada, "ada@lab.example", "ada")
        page = ada.get("/authors/Zoë Ångström")
        assert "I wrote this: claim" in page.text and "is <span" not in page.text
        claimed = ada.post(
            "/claims",
            data={
                "csrftoken": csrf_of(page),
                "paper": "2604.00001",
                "author": "zoe angstrom",
                "next": "/authors/Zo%C3%AB%20%C3%85ngstr%C3%B6m",
            },
        )
        assert claimed.status_code == 303
        again = ada.post(
            "/claims",
            data={"csrftoken": csrf_of(page), "paper": "2604.00001", "author": AUTHOR},
        )
        assert again.status_code == 409
        not_on_it = ada.post(
            "/claims", data={"csrftoken": csrf_of(page), "paper": "2604.00001", "author": "Cy"}
        )
        assert not_on_it.status_code == 400
        unknown = ada.post(
            "/claims", data={"csrftoken": csrf_of(page), "paper": "2699.99999", "author": AUTHOR}
        )
        assert unknown.status_code == 404
        assert "pending" in ada.get("/settings/follows").text
        # Not an admin: no moderation.
        assert ada.get("/moderation/claims").status_code == 403

    with site.browser() as root:
        log_in(root, "root")
        moderation = root.get("/moderation/claims")
        assert "ada" in moderation.text and "2604.00001" in moderation.text
        claim_id = site.store.follows.claims(status="pending")[0].id
        decided = root.post(
            f"/moderation/claims/{claim_id}",
            data={"csrftoken": csrf_of(moderation), "decision": "approve"},
        )
        assert decided.status_code == 303
        bad = root.post(
            f"/moderation/claims/{claim_id}",
            data={"csrftoken": csrf_of(moderation), "decision": "maybe"},
        )
        assert bad.status_code == 422
        missing = root.post(
            "/moderation/claims/999999",
            data={"csrftoken": csrf_of(moderation), "decision": "approve"},
        )
        assert missing.status_code == 404

    with site.browser() as visitor:
        page = visitor.get("/authors/zoe angstrom").text
        assert 'is <span class="claimant">ada</span> here' in page
        # The claimed paper first, with its upvotes.
        assert page.index("An older paper") < page.index("Another older paper")
        assert '<span class="count">7</span>' in page

    with site.browser() as ada:
        log_in(ada, "ada")
        page = ada.get("/authors/zoe angstrom")
        assert "Hide from my page" in page.text
        hidden = ada.post(
            "/claims/hide",
            data={
                "csrftoken": csrf_of(page),
                "paper": "2604.00002",
                "author": AUTHOR,
                "next": "/authors/zoe%20angstrom",
            },
        )
        assert hidden.status_code == 303
        page = ada.get("/authors/zoe angstrom")
        assert "Hidden from this page" in page.text and "Show again" in page.text
    with site.browser() as visitor:
        assert "Another older paper" not in visitor.get("/authors/zoe angstrom").text
        # Only this author page: the paper itself is still there.
        assert visitor.get("/papers/2604.00002").status_code == 200
    assert site.store.follows.claimed_paper_ids(_id(site, "ada")) == {"2604.00001"}


def test_only_a_claimed_author_hides_papers(site: Site) -> None:
    with site.browser() as bo:
        sign_up(bo, "bo@lab.example", "bo")
        page = bo.get("/authors/zoe angstrom")
        refused = bo.post(
            "/claims/hide",
            data={"csrftoken": csrf_of(page), "paper": "2604.00002", "author": AUTHOR},
        )
        assert refused.status_code == 403


def test_the_follows_api(site: Site) -> None:
    _, token = site.user("ada")
    with site.api(token) as api:
        assert api.get("/api/follows").json() == []
        made = api.post("/api/follows", json={"kind": "author", "value": "Zoë Ångström"})
        assert made.status_code == 201
        body = made.json()
        assert (body["kind"], body["value"], body["url"]) == (
            "author",
            AUTHOR,
            "/authors/Zo%C3%AB%20%C3%85ngstr%C3%B6m",
        )
        again = api.post("/api/follows", json={"kind": "author", "value": "zoe angstrom"})
        assert again.status_code == 200 and again.json()["id"] == body["id"]
        search = api.post(
            "/api/follows",
            json={"kind": "search", "value": "new result", "filters": {"since": "2026-01-01"}},
        )
        assert search.status_code == 201
        assert search.json()["filters"] == {"since": "2026-01-01"}
        assert search.json()["url"] == "/search?q=new+result&since=2026-01-01"
        listed = api.get("/api/follows").json()
        assert [f["kind"] for f in listed] == ["author", "search"]

        for bad, status in (
            ({"kind": "planet", "value": "Mars"}, 422),
            ({"kind": "category", "value": "not a category"}, 400),
            ({"kind": "author", "value": ""}, 422),
            ({"kind": "search", "value": "x", "filters": {"since": "2026-02-30"}}, 400),
            ({"kind": "author", "value": "Ada", "filters": {"since": "2026-01-01"}}, 400),
        ):
            answer = api.post("/api/follows", json=bad)
            assert answer.status_code == status, (bad, answer.text)
            assert "error" in answer.json()
        assert api.post("/api/follows", content=b"{nope").status_code in (400, 422)

        assert api.delete(f"/api/follows/{body['id']}").status_code == 204
        gone = api.delete(f"/api/follows/{body['id']}")
        assert gone.status_code == 404 and "error" in gone.json()
        assert api.delete("/api/follows/0").status_code == 422
    with site.api() as anonymous:
        refused = anonymous.get("/api/follows")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    with site.api("pst_not_a_token") as wrong:
        assert wrong.post("/api/follows", json={"kind": "author", "value": "x"}).status_code == 401


def test_the_follows_api_is_rate_limited(store: Store, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, rate_follow="2/minute")
    with serving(create_app(settings, store)) as url:
        site = Site(url, store, settings)
        _, token = site.user("ada")
        with site.api(token) as api:
            for n in range(2):
                assert (
                    api.post(
                        "/api/follows", json={"kind": "category", "value": f"cs.A{'I' * (n + 1)}"}
                    ).status_code
                    == 201
                )
            refused = api.post("/api/follows", json={"kind": "category", "value": "cs.CL"})
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_openapi_documents_the_follows_api(site: Site) -> None:
    schema = httpx.get(f"{site.url}/openapi.json", timeout=60).json()
    paths = schema["paths"]
    assert set(paths["/api/follows"]) == {"get", "post"}
    assert {"400", "401", "422", "429"} <= set(paths["/api/follows"]["post"]["responses"])
    assert {"401", "404", "422"} <= set(paths["/api/follows/{follow_id}"]["delete"]["responses"])
