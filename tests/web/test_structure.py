"""How the web package is put together: no import cycles, one route per URL whatever the
include order, handlers off the event loop, one parameter model for a page and its twin."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from markupsafe import escape
from starlette.routing import Match

from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web.app import ROUTERS, create_app
from tests.web.conftest import serving

WEB = Path(__file__).resolve().parents[2] / "paperstand" / "web"
MODULES = sorted(f"paperstand.web.{path.stem}" for path in WEB.glob("*.py"))


def web_imports(module: str) -> set[str]:
    """The modules of ``paperstand.web`` that ``module`` imports (at any level)."""
    name = module.rsplit(".", 1)[1]
    tree = ast.parse((WEB / f"{name}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in found if m in MODULES and m != module}


def test_the_web_package_imports_without_cycles():
    graph = {module: web_imports(module) for module in MODULES}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = path[path.index(module) :] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, [*path, module])
        done.add(module)

    for module in MODULES:
        visit(module, [])
    assert "paperstand.web.app" not in set().union(*graph.values())  # nothing reaches back


@pytest.mark.parametrize("module", MODULES)
def test_each_web_module_imports_on_its_own(module):
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# Each URL and the one handler that must answer it.
ROUTES = {
    "/": "home",
    "/papers/2503.00001": "paper_page",
    "/papers/2503.00001v2": "paper_page",
    "/papers/hep-th/9901001": "paper_page",
    "/papers/doi:10.1000/abc.def": "paper_page",
    "/papers/2503.00001.md": "paper_markdown",
    "/papers/hep-th/9901001.md": "paper_markdown",
    "/papers/2503.00001.bib": "paper_bibtex",
    "/papers/date": "pick_day",
    "/papers/date/2025-03-24": "day_page",
    "/papers/week/2025-W13": "week_page",
    "/papers/month/2025-03": "month_page",
    "/papers/trending": "trending_page",
    "/api/daily_papers": "daily_papers",
    "/api/papers/search": "papers_search",
    "/api/papers/2503.00001": "paper_info",
    "/api/papers/hep-th/9901001": "paper_info",
    "/api/papers/2503.00001/similar": "similar",
    "/api/papers/hep-th/9901001/similar": "similar",
    "/api/search": "search",
    "/search": "search_page",
    "/bibtex": "papers_bibtex",
    "/authors/Ada Example": "author_page",
    "/categories/cs.CL": "category_page",
    "/api/authors/Ada Example": "author_papers",
    "/api/categories/cs.CL": "category_papers",
    "/feeds/daily.xml": "daily_feed",
    "/feeds/trending.atom": "trending_feed",
    "/feeds/categories/cs.CL.atom": "category_feed",
    "/feeds/search.xml": "search_feed",
    "/docs": "docs",
    "/digest": "subscribe_page",
    "/digest/confirm": "confirm",
    "/digest/manage": "manage_page",
    "/digest/unsubscribe": "unsubscribe_page",
    "/digest/preview": "preview",
    "/map": "map_page",
    "/trends": "trends_page",
    "/topics/3": "cluster_page",
    "/api/topics/map": "topic_map",
    "/api/topics/trends": "topic_trends",
    "/papers/new": "latest_new_on_arxiv",
    "/papers/new/2025-03-24": "new_on_arxiv_page",
    "/api/papers/2503.00001/comments": "comments",
    "/api/papers/hep-th/9901001/comments": "comments",
    "/submit": "submit_form",
    "/for-you": "for_you_page",
    "/for-you/start": "start_page",
    "/api/recommendations": "recommendations",
    "/feeds/for-you/psf_abc.xml": "for_you_feed",
    "/lists": "my_lists_page",
    "/lists/7": "list_page",
    "/lists/7.xml": "list_feed",
    "/lists/7.atom": "list_feed",
    "/lists/7.bib": "list_bibtex",
    "/lists/7.md": "list_markdown",
    "/lists/7.csv": "list_csv",
    "/lists/7.json": "list_json",
    "/lists/7/papers/2604.00001/note": "note_page",
    "/lists/7/papers/hep-th/9901001v2/note": "note_page",
    "/api/lists": "api_lists",
    "/api/saved": "api_saved",
    "/api/lists/7": "api_list",
    "/following": "following_page",
    "/settings/follows": "follows_settings",
    "/moderation/claims": "moderation_page",
    "/api/follows": "list_follows",
}


def handlers() -> list[APIRoute]:
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


def test_every_url_has_exactly_one_route_so_include_order_cannot_matter():
    routes = handlers()
    assert {route.name for route in routes} >= set(ROUTES.values())
    for path, handler in ROUTES.items():
        scope = {"type": "http", "path": path, "method": "GET"}
        matching = [route.name for route in routes if route.matches(scope)[0] is Match.FULL]
        assert matching == [handler], path


def test_handlers_run_in_the_thread_pool_not_on_the_event_loop():
    """The store's drivers block: a coroutine handler calling them would stall every
    request. FastAPI runs plain ``def`` handlers in its thread pool."""
    on_loop = [route.path for route in handlers() if inspect.iscoroutinefunction(route.endpoint)]
    assert on_loop == []


class GatedStore:
    """A real store whose first cache-version check waits for a gate: a request caught in a
    slow database round trip."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.waiting = threading.Event()
        self.gate = threading.Event()
        self._first = True

    def cache_version(self) -> int:
        if self._first:
            self._first = False
            self.waiting.set()
            assert self.gate.wait(60), "the test never opened the gate"
        return self._store.cache_version()

    def __getattr__(self, name: str):
        return getattr(self._store, name)


def test_a_request_waiting_on_the_store_does_not_hold_up_others(tmp_path, store):
    store.upsert_papers([Paper(id="2503.00001", title="A paper", listed="2025-03-03")])
    gated = GatedStore(store)
    app = create_app(Settings(home=tmp_path), store=gated)  # type: ignore[arg-type]
    with serving(app) as url:
        slow: dict[str, httpx.Response] = {}
        first = threading.Thread(
            target=lambda: slow.update(r=httpx.get(f"{url}/api/daily_papers", timeout=60))
        )
        first.start()
        assert gated.waiting.wait(30)
        try:
            other = httpx.get(f"{url}/api/papers/2503.00001", timeout=30)
            assert other.status_code == 200 and other.json()["title"] == "A paper"
            assert first.is_alive()  # answered while the first request still waits
        finally:
            gated.gate.set()
            first.join(60)
        assert slow["r"].status_code == 200


def test_a_page_and_its_json_twin_check_parameters_alike(client):
    for bad, message in (
        ({"since": "2025-1-1"}, "since: not a date: '2025-1-1'"),
        ({"until": "2025-02-30"}, "until: not a date: '2025-02-30'"),
    ):
        params = {"q": "graph", **bad}
        api = client.get("/api/search", params=params)
        page = client.get("/search", params=params, headers={"accept": "text/html"})
        assert api.status_code == page.status_code == 400, bad
        assert message in api.json()["error"] and escape(message) in page.text, bad
    empty = {"q": "graph", "since": "2025-03-02", "until": "2025-03-01"}
    api = client.get("/api/search", params=empty)
    assert api.status_code == 200 and api.json()["hits"] == []
    page = client.get("/search", params=empty, headers={"accept": "text/html"})
    assert page.status_code == 200 and "From is after To" in page.text


def test_a_wrong_method_gets_405_listing_every_method_of_the_path(client):
    wrong = client.post("/api/daily_papers")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert wrong.json()["error"]
    # Two routes share /api/tokens (GET lists, POST creates): Allow names both.
    assert client.put("/api/tokens").headers["allow"] == "GET, POST"
