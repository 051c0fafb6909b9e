"""Saved papers and reading lists over real HTTP on both backends: the forms (with CSRF) a
browser without JavaScript posts, the feeds and exports (BibTeX parsed back), the JSON
API and its errors, imports with their report, and a private list that is 404 to everyone
else through every page, feed, export and API call."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import httpx
import pytest
from lxml import etree

from paperstand import library
from paperstand.accounts.service import Accounts
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import create_app
from paperstand.web.lists import MAX_BIBTEX
from tests.web.conftest import serving
from tests.web.test_accounts import HTML, csrf_of, post_form, sign_up

pytestmark = pytest.mark.usefixtures("fast_passwords")

PAPERS = [
    Paper(
        id=f"2604.0000{n}",
        title=f"Paper number {n}",
        authors=["Ada Lovelace", f"Author {n}"],
        abstract=f"Abstract {n}.",
        categories=["cs.LG"],
        listed="2026-04-28",
        submitted_on="2026-04-29",
        published="2026-04-27",
        upvotes=n,
    )
    for n in range(1, 6)
]
EXPORTS = (".xml", ".atom", ".bib", ".md", ".csv", ".json")


class Site:
    def __init__(self, url: str, store: Store, settings: Settings) -> None:
        self.url = url
        self.store = store
        self.accounts = Accounts(store, settings)

    def token(self, name: str) -> str:
        user = self.accounts.create(f"{name}@lab.example", name=name)
        return self.accounts.new_api_token(user, "tests")[1]

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=HTML, follow_redirects=False, timeout=30)


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Iterator[Site]:
    settings = Settings(home=tmp_path, rate_vote="1000/minute", search_fetch_missing=False)
    store.upsert_papers(PAPERS)
    with serving(create_app(settings, store)) as url:
        yield Site(url, store, settings)


def list_order(page: httpx.Response) -> list[str]:
    return re.findall(r'<span class="pid">([^<]+)</span>', page.text)


def test_save_from_a_list_page_then_make_reorder_publish_and_export_a_list(site: Site) -> None:
    with site.browser() as browser:
        assert sign_up(browser, "ada@lab.example", "ada").status_code == 303
        daily = browser.get("/papers/date/2026-04-29")
        assert daily.text.count('class="save"') == 5
        saved = browser.post(
            "/papers/2604.00003/save",
            data={"csrftoken": csrf_of(daily), "saved": "1"},
            headers={"Referer": f"{site.url}/papers/date/2026-04-29"},
        )
        assert (saved.status_code, saved.headers["location"]) == (303, "/papers/date/2026-04-29")
        daily = browser.get("/papers/date/2026-04-29")
        assert daily.text.count('aria-pressed="true"') == 1  # the page shows it saved
        mine = browser.get("/lists")
        assert "Paper number 3" in mine.text

        made = post_form(browser, "/lists", "/lists", name="Thursday group", description="")
        assert made.status_code == 303
        path = made.headers["location"]
        list_id = int(path.rsplit("/", 1)[1])
        for n in (1, 2, 3):
            post_form(browser, f"{path}/add", path, paper=f"https://arxiv.org/abs/2604.0000{n}")
        assert list_order(browser.get(path)) == ["2604.00001", "2604.00002", "2604.00003"]
        moved = post_form(browser, f"{path}/move", path, paper="2604.00003", to="0")
        assert moved.status_code == 303
        # A note is edited on a page of its own, opened by the row's Note link.
        editor = f"{path}/papers/2604.00001/note"
        assert f'href="{editor}"' in browser.get(path).text
        opened = browser.get(editor)
        assert opened.status_code == 200 and "Paper number 1" in opened.text
        noted = post_form(browser, editor, editor, note="read §2 first")
        assert (noted.status_code, noted.headers["location"]) == (303, f"{path}#item-1")
        assert "read §2 first</textarea>" in browser.get(editor).text
        page = browser.get(path)
        assert list_order(page) == ["2604.00003", "2604.00001", "2604.00002"]
        assert '<p class="note">read §2 first</p>' in page.text
        # The rows' Up, Down and Remove buttons are of one form around the list: the pressed
        # button names the paper; no row has a form of its own.
        rows = page.text.split('<ol class="papers reading"')[1].split("</ol>")[0]
        assert rows.count("<form") == 0 and rows.count('class="item"') == 3
        assert '<form id="item-actions"' in page.text.split('<ol class="papers reading"')[0]
        assert 'name="down" value="2604.00001"' in rows
        for bad in ("2604.00005", "2699.99999"):  # stored but not on the list; not stored
            assert browser.get(f"{path}/papers/{bad}/note").status_code == 404
            answer = post_form(browser, f"{path}/papers/{bad}/note", editor, note="x")
            assert answer.status_code == 404
        down = post_form(browser, f"{path}/items", path, down="2604.00003")
        assert (down.status_code, down.headers["location"]) == (303, f"{path}#item-1")
        post_form(browser, f"{path}/items", path, up="2604.00003")
        post_form(browser, f"{path}/items", path, remove="2604.00002")
        assert list_order(browser.get(path)) == ["2604.00003", "2604.00001"]
        post_form(browser, f"{path}/add", path, paper="2604.00002")
        # A drag and drop posts the new place and asks for JSON.
        dropped = browser.post(
            f"{path}/move",
            data={"csrftoken": csrf_of(page), "paper": "2604.00002", "to": "0"},
            headers={"Accept": "application/json"},
        )
        assert dropped.json() == {"id": "2604.00002", "position": 0}
        browser.post(
            f"{path}/move",
            data={"csrftoken": csrf_of(page), "paper": "2604.00002", "to": "2"},
            headers={"Accept": "application/json"},
        )
        assert list_order(browser.get(path)) == ["2604.00003", "2604.00001", "2604.00002"]
        for bad in ({}, {"up": ""}, {"remove": "2699.99999"}, {"down": "2604.00005"}):
            answer = post_form(browser, f"{path}/items", path, **bad)
            assert answer.status_code in (400, 404, 422), bad

        # Private: nobody else sees it, the owner does.
        with site.browser() as stranger:
            assert stranger.get(path).status_code == 404
            assert stranger.get(f"{path}.xml").status_code == 404
        assert browser.get(f"{path}.bib").status_code == 200

        post_form(browser, f"{path}/edit", path, name="Thursday group", public="1")
    with site.browser() as stranger:
        page = stranger.get(path)
        assert page.status_code == 200 and "Move up" not in page.text
        assert "/note" not in page.text and "<form" not in page.text.split("<main")[1]
        # The note editor is the owner's alone: a log-in for visitors, a 404 to others.
        assert stranger.get(editor).headers["location"] == f"/login?next={editor}"
        sign_up(stranger, "bo@lab.example", "bo")
        assert stranger.get(editor).status_code == 404
        assert post_form(stranger, editor, "/lists", note="mine now").status_code == 404
        assert "read §2 first" in page.text
        rss = etree.fromstring(stranger.get(f"{path}.xml").content)
        assert [link.text for link in rss.iter("link")][-3:] == [
            f"{site.url}/papers/2604.0000{n}" for n in (3, 1, 2)
        ]
        atom = stranger.get(f"{path}.atom")
        assert atom.headers["content-type"].startswith("application/atom+xml")
        bib = stranger.get(f"{path}.bib")
        parsed = bibtexparser.parse_string(bib.text)
        assert not parsed.failed_blocks
        assert [e.fields_dict["eprint"].value for e in parsed.entries] == [
            "2604.00003",
            "2604.00001",
            "2604.00002",
        ]
        rows = list(csv.DictReader(io.StringIO(stranger.get(f"{path}.csv").text)))
        assert [(r["position"], r["id"], r["note"]) for r in rows][:2] == [
            ("1", "2604.00003", ""),
            ("2", "2604.00001", "read §2 first"),
        ]
        markdown = stranger.get(f"{path}.md").text
        assert markdown.startswith("# Thursday group") and "## Paper number 3" in markdown
        assert "> read §2 first" in markdown
        exported = stranger.get(f"{path}.json").json()
        assert exported["id"] == list_id and exported["public"] is True


def test_a_private_list_is_404_to_everyone_else_everywhere(site: Site) -> None:
    owner, other = site.token("owner"), site.token("other")
    with site.api(owner) as api:
        made = api.post("/api/lists", json={"name": "Secret", "public": False})
        assert made.status_code == 201
        list_id = made.json()["id"]
        assert api.post(f"/api/lists/{list_id}/papers/2604.00001").status_code == 200
        # Feeds and exports take the token (the HTML page only a session: it is for browsers).
        for suffix in EXPORTS:
            assert api.get(f"/lists/{list_id}{suffix}").status_code == 200, suffix
    for client in (site.api(other), site.api()):
        with client:
            for suffix in ("", *EXPORTS):
                answer = client.get(f"/lists/{list_id}{suffix}")
                assert answer.status_code == 404, suffix
            got = client.get(f"/api/lists/{list_id}")
            assert got.status_code == 404 and got.json() == {"error": f"no list {list_id}"}
    with site.api(other) as api:
        assert api.patch(f"/api/lists/{list_id}", json={"public": True}).status_code == 404
        assert api.post(f"/api/lists/{list_id}/papers/2604.00002").status_code == 404
        assert api.delete(f"/api/lists/{list_id}").status_code == 404
    # Unknown lists answer the same.
    with site.api(other) as api:
        assert api.get("/api/lists/999999").json() == {"error": "no list 999999"}


def test_saved_papers_over_the_api(site: Site) -> None:
    with site.api() as anonymous:
        answer = anonymous.get("/api/saved")
        assert answer.status_code == 401 and "error" in answer.json()
    user = site.accounts.create("ada@lab.example", name="ada")
    token = site.accounts.new_api_token(user, "tests")[1]
    with site.api(token) as api:
        assert api.get("/api/saved").json() == {"ids": []}
        for paper_id in ("2604.00002", "2604.00004"):
            library.save(site.store, user.id, paper_id)
        assert sorted(api.get("/api/saved").json()["ids"]) == ["2604.00002", "2604.00004"]


def test_the_lists_api(site: Site) -> None:
    token = site.token("ada")
    with site.api() as anonymous:
        answer = anonymous.post("/api/lists", json={"name": "x"})
        assert answer.status_code == 401 and "error" in answer.json()
    with site.api(token) as api:
        made = api.post(
            "/api/lists", json={"name": "Diffusion", "description": "For the talk", "public": True}
        )
        assert made.status_code == 201
        body = made.json()
        assert (body["name"], body["description"], body["public"], body["papers"]) == (
            "Diffusion",
            "For the talk",
            True,
            [],
        )
        list_id = body["id"]
        for n in (2, 1):
            api.post(f"/api/lists/{list_id}/papers/2604.0000{n}")
        noted = api.post(f"/api/lists/{list_id}/papers/2604.00002", json={"note": "key idea"})
        assert [(p["id"], p["note"]) for p in noted.json()["papers"]] == [
            ("2604.00002", "key idea"),
            ("2604.00001", ""),
        ]
        assert api.get("/api/lists").json()[0]["size"] == 2
        changed = api.patch(f"/api/lists/{list_id}", json={"name": "Diffusion 2", "public": False})
        assert (changed.json()["name"], changed.json()["public"]) == ("Diffusion 2", False)
        assert api.delete(f"/api/lists/{list_id}/papers/2604.00002").status_code == 204
        assert api.delete(f"/api/lists/{list_id}/papers/2604.00002").status_code == 404
        missing = api.post(f"/api/lists/{list_id}/papers/2699.99999")
        assert missing.status_code == 404 and "not in this store" in missing.json()["error"]
        for bad in ({"name": ""}, {"name": "   "}, {"public": "maybe"}, {}):
            answer = api.post("/api/lists", json=bad)
            assert answer.status_code == 422 and "error" in answer.json(), bad
        assert api.get("/api/lists/abc").status_code == 422
        assert api.delete(f"/api/lists/{list_id}").status_code == 204
        assert api.get(f"/api/lists/{list_id}").status_code == 404


BIBTEX = """@misc{good1, title = {One}, eprint = {2604.00001}, archivePrefix = {arXiv}}
@article{nopaper, title = {No identifiers}, year = 2020}
@article{gooddoi, title = {Two}, url = {https://huggingface.co/papers/2604.00002}}
@article{unknowndoi, title = {Three}, doi = {10.5555/nowhere}}
@misc{broken, title = {Unclosed
"""


def test_an_import_reports_each_reference_it_could_not_use(site: Site) -> None:
    with site.browser() as browser:
        sign_up(browser, "bo@lab.example", "bo")
        made = post_form(browser, "/lists", "/lists", name="Imported")
        path = made.headers["location"]
        token = csrf_of(browser.get(path))
        # A multipart form, as a browser uploads the chosen file (the token first).
        report = browser.post(
            f"{path}/import",
            data={"csrftoken": token, "text": "2604.00004\nnot-a-paper"},
            files={"bibtex": ("zotero.bib", BIBTEX.encode(), "application/x-bibtex")},
        )
        assert report.status_code == 200
        assert "3 papers added" in report.text
        problems = re.findall(r'<li><span class="where">([^<]+)</span>: ([^<]+)</li>', report.text)
        wheres = [where for where, _ in problems]
        assert "entry nopaper" in wheres and "entry unknowndoi" in wheres
        assert "line 2: not-a-paper" in wheres
        assert any("well-formed" in why for _, why in problems)
        assert list_order(browser.get(path)) == ["2604.00004", "2604.00001", "2604.00002"]


def test_an_uploaded_file_that_is_not_utf8_text_or_too_large_is_refused(site: Site) -> None:
    with site.browser() as browser:
        sign_up(browser, "di@lab.example", "di")
        path = post_form(browser, "/lists", "/lists", name="Uploads").headers["location"]
        token = csrf_of(browser.get(path))
        for content, why in (
            (b"\xff\xfe@misc{x, eprint={2604.00001}}", "not UTF-8"),
            (b" " * (MAX_BIBTEX + 1), "at most 10 MB"),
        ):
            answer = browser.post(
                f"{path}/import",
                data={"csrftoken": token},
                files={"bibtex": ("x.bib", content, "application/octet-stream")},
            )
            assert answer.status_code == 400 and why in answer.text
        # Without the token first, the CSRF check refuses the upload.
        refused = browser.post(
            f"{path}/import",
            files={"bibtex": ("x.bib", BIBTEX.encode()), "csrftoken": (None, token)},
        )
        assert refused.status_code == 403
        assert list_order(browser.get(path)) == []


def test_forms_need_a_session_and_a_csrf_token(site: Site) -> None:
    with site.browser() as browser:
        page = browser.get("/papers/date/2026-04-29")
        assert 'href="/login?next=' in page.text  # visitors: Save asks them to log in
        token = csrf_of(browser.get("/login"))
        refused = browser.post("/papers/2604.00001/save", data={"csrftoken": token})
        assert refused.status_code == 401
        sign_up(browser, "cy@lab.example", "cy")
        assert browser.post("/papers/2604.00001/save", data={"saved": "1"}).status_code == 403
