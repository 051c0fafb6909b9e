"""The community's JSON API over real HTTP, on both backends: Bearer tokens, idempotent
upvotes reflected at once, comments (hostile Markdown made inert), submissions and their
rules, bans, rate limits, and the OpenAPI schema documenting every answer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from paperstand.accounts.service import Accounts
from paperstand.models import Paper, User
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from tests.web.conftest import serving

TODAY = datetime.now(UTC).date()
FRESH = (TODAY - timedelta(days=2)).isoformat()


class Site:
    def __init__(self, url: str, store: Store, settings: Settings) -> None:
        self.url = url
        self.store = store
        self.settings = settings
        self.accounts = Accounts(store, settings)

    def user(self, name: str, *, admin: bool = False) -> tuple[User, str]:
        user = self.accounts.create(f"{name}@lab.example", name=name, admin=admin)
        return user, self.accounts.new_api_token(user, "tests")[1]

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


WORKER = """
import sys
from paperstand.jobs import Worker
from paperstand.settings import Settings
from paperstand.store import open_store
settings = Settings.model_validate_json(sys.argv[1])
with open_store(settings.store_url(), migrate=False) as store:
    assert Worker(store, settings).run_one() is not None
"""


def run_worker_once(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, settings.model_dump_json()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def start(store: Store, tmp_path: Path, **more: Any) -> Iterator[Site]:
    settings = Settings(home=tmp_path, arxiv_delay=0, http_retries=0, **more)
    store.upsert_papers(
        [
            Paper(id="2604.00001", title="Fresh", published=FRESH, submitted_on=FRESH, upvotes=7),
            Paper(id="2604.00002", title="Listed only", published=FRESH, listed=FRESH),
            Paper(id="2604.00003", title="Also fresh", published=FRESH, listed=FRESH),
            Paper(id="2604.00004", title="Old", published="2026-01-02", listed="2026-01-02"),
        ]
    )
    with serving(create_app(settings, store)) as url:
        yield Site(url, store, settings)


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[Site]:
    yield from start(store, tmp_path, rate_vote="1000/minute", rate_comment="1000/minute")


def test_upvotes_are_idempotent_and_reflected_at_once(site: Site) -> None:
    _, ada = site.user("ada")
    _, bo = site.user("bo")
    with site.api(ada) as api, site.api(bo) as other, site.api() as anonymous:
        assert anonymous.get("/api/papers/2604.00001").json()["upvotes"] == 7
        first = api.post("/api/papers/2604.00001/upvote")
        assert first.status_code == 200
        assert first.json() == {
            "upvotes": 8,
            "upvoted": True,
            "localUpvotes": 1,
            "hfUpvotes": 7,
        }
        assert api.post("/api/papers/2604.00001/upvote").json()["upvotes"] == 8
        assert other.post("/api/papers/arXiv:2604.00001v1/upvote").json()["upvotes"] == 9
        shown = anonymous.get("/api/papers/2604.00001").json()
        assert (shown["upvotes"], shown["localUpvotes"], shown["hfUpvotes"]) == (9, 2, 7)
        assert api.delete("/api/papers/2604.00001/upvote").json() == {
            "upvotes": 8,
            "upvoted": False,
            "localUpvotes": 1,
            "hfUpvotes": 7,
        }
        assert api.delete("/api/papers/2604.00001/upvote").json()["upvotes"] == 8
        assert anonymous.get("/api/papers/2604.00001").json()["upvotes"] == 8
        missing = api.post("/api/papers/2604.99999/upvote")
        assert missing.status_code == 404 and "error" in missing.json()


def test_without_a_valid_token_nothing_is_written(site: Site) -> None:
    with site.api() as anonymous, site.api("ps_not_a_token") as forged:
        for client in (anonymous, forged):
            for answer in (
                client.post("/api/papers/2604.00001/upvote"),
                client.post("/api/papers/2604.00001/comments", json={"text": "hi"}),
                client.post("/api/papers/submit", json={"id": "2604.00003"}),
            ):
                assert answer.status_code == 401
                assert answer.json()["error"]
    assert site.store.community.vote_counts() == {}
    assert site.store.community.comments("2604.00001") == []


def test_a_banned_account_cannot_post(site: Site) -> None:
    user, token = site.user("mallory")
    site.accounts.set_banned(user.email, True)
    with site.api(token) as api:
        for answer in (
            api.post("/api/papers/2604.00001/upvote"),
            api.post("/api/papers/2604.00001/comments", json={"text": "spam"}),
            api.post("/api/papers/submit", json={"id": "2604.00003"}),
        ):
            assert answer.status_code == 403
            assert "banned" in answer.json()["error"]
    assert site.store.community.comments("2604.00001") == []


def test_comments_are_sanitised_and_counted(site: Site) -> None:
    _, ada = site.user("ada")
    hostile = (
        "<script>alert(1)</script> **bold** <img src=x onerror=alert(2)> "
        "[link](javascript:alert(3)) [ok](https://example.org)"
    )
    with site.api(ada) as api:
        made = api.post("/api/papers/2604.00001/comments", json={"text": hostile})
        assert made.status_code == 201
        body = made.json()
        assert (body["author"], body["parentId"]) == ("ada", None)
        assert set(body) >= {"id", "author", "created", "html"}
        html = body["html"]
        assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
        assert "&lt;script&gt;" in html and "<strong>bold</strong>" in html
        assert 'href="https://example.org"' in html
        reply = api.post(
            "/api/papers/2604.00001/comments", json={"text": "a reply", "parentId": body["id"]}
        )
        assert reply.status_code == 201
        listed = api.get("/api/papers/2604.00001/comments").json()
        assert [c["id"] for c in listed] == [body["id"]]
        assert [r["html"] for r in listed[0]["replies"]] == ["<p>a reply</p>\n"]
        assert api.get("/api/papers/2604.00001").json()["numComments"] == 2
        daily = api.get("/api/daily_papers", params={"date": FRESH}).json()
        assert [(d["paper"]["id"], d["numComments"]) for d in daily] == [("2604.00001", 2)]
        empty = api.post("/api/papers/2604.00001/comments", json={"text": ""})
        assert empty.status_code == 422 and "error" in empty.json()


def test_submissions_and_their_rules(store: Store, tmp_path: Path) -> None:
    for site in start(store, tmp_path, submission_daily_quota=1):
        _, ada = site.user("ada")
        _, bo = site.user("bo")
        with site.api(ada) as api, site.api(bo) as other:
            made = api.post("/api/papers/submit", json={"id": "https://arxiv.org/abs/2604.00003"})
            assert made.status_code == 201
            body = made.json()
            assert (body["id"], body["status"], body["day"]) == (
                "2604.00003",
                "ready",
                TODAY.isoformat(),
            )
            assert body["paper"]["title"] == "Also fresh"
            again = other.post("/api/papers/submit", json={"id": "2604.00003"})
            assert again.status_code == 409
            assert again.json()["url"] == "/papers/2604.00003"
            quota = api.post("/api/papers/submit", json={"id": "2604.00002"})
            assert quota.status_code == 422 and "quota" in quota.json()["error"]
            old = other.post("/api/papers/submit", json={"id": "2604.00004"})
            assert old.status_code == 422 and "days old" in old.json()["error"]
            bad = other.post("/api/papers/submit", json={"id": "not a paper"})
            assert bad.status_code == 422 and "error" in bad.json()  # the schema refuses it
            daily = api.get("/api/daily_papers", params={"date": TODAY.isoformat()}).json()
            assert [d["paper"]["id"] for d in daily] == ["2604.00003"]
            assert daily[0]["submittedBy"]["name"] == "ada"


def test_an_unknown_paper_is_pending_until_the_worker_fetches_it(
    store: Store, tmp_path: Path, replay
) -> None:
    for site in start(
        store, tmp_path, arxiv_api_url=replay.atom_url, submission_max_age_days=100_000
    ):
        _, ada = site.user("ada")
        with site.api(ada) as api:
            made = api.post("/api/papers/submit", json={"id": "1707.08567"})
            assert made.status_code == 201
            assert (made.json()["status"], made.json()["paper"]) == ("pending", None)
            assert replay.asked("/api/query") == []  # the request did not wait for arXiv
            # A worker in its own process, as `paperstand worker` runs.
            run_worker_once(site.settings.model_copy(update={"database_url": site.store.url}))
            paper = api.get("/api/papers/1707.08567").json()
            assert paper["title"].startswith("Proceedings of Workshop AEW10")


def test_rate_limits_answer_429_with_retry_after(store: Store, tmp_path: Path) -> None:
    for site in start(store, tmp_path, rate_vote="2/minute", rate_vote_ip="100/minute"):
        _, ada = site.user("ada")
        with site.api(ada) as api:
            assert api.post("/api/papers/2604.00001/upvote").status_code == 200
            assert api.delete("/api/papers/2604.00001/upvote").status_code == 200
            limited = api.post("/api/papers/2604.00001/upvote")
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) > 0 and limited.json()["error"]
        assert site.store.community.vote_counts() == {}


def test_the_schema_documents_every_answer(site: Site) -> None:
    with site.api() as api:
        schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    expected = {
        ("/api/papers/{paper_id}/upvote", "post"): {"200", "401", "403", "404", "429"},
        ("/api/papers/{paper_id}/upvote", "delete"): {"200", "401", "403", "404", "429"},
        ("/api/papers/{paper_id}/comments", "get"): {"200", "404"},
        ("/api/papers/{paper_id}/comments", "post"): {"201", "401", "403", "404", "422", "429"},
        ("/api/papers/submit", "post"): {"201", "401", "403", "409", "422", "429"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
