"""What every handler of the web face shares: the :class:`Site` (store, settings, search
service, response cache, templates) and how a handler gets it.

A handler asks for it as a parameter, ``site: SiteDep``; ``create_app`` builds one Site per
app. Routers import this module, never ``app.py``, so the web package has no import cycle:
``app`` → routers → ``site`` (and ``params``, ``render``, ...), never back.

Handlers that touch the store are plain ``def`` functions. The store's drivers (sqlite3,
psycopg) block, so FastAPI runs such handlers in its thread pool; the event loop only
parses requests and writes responses. That includes the data-version check of every
cached answer: one thread hop per request (tens of microseconds) is far cheaper than a
PostgreSQL round trip holding up every other request on the loop, and unlike a version
remembered for a while it never serves a page older than the last write.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response
from jinja2 import Environment, PackageLoader, select_autoescape

from paperstand import follows
from paperstand.errors import PaperstandError, Unavailable
from paperstand.models import Paper, TopicCluster
from paperstand.settings import Settings
from paperstand.store import Store
from paperstand.web import render
from paperstand.web.cache import ResponseCache

if TYPE_CHECKING:  # the search service loads indexes and models: imported on first use
    from paperstand.search import Hit, Searcher

log = logging.getLogger(__name__)

# Search answers also depend on indexes built outside the papers table: keep them briefly.
SEARCH_TTL = 60.0

T = TypeVar("T")

# The store's cache version as the request being answered read it (set by ``Site.respond``
# around rendering), so what the page asks of ``Site.known`` costs no second query.
_VERSION: ContextVar[int | None] = ContextVar("paperstand_cache_version", default=None)


def templates() -> Environment:
    """The Jinja2 environment of ``web/templates``, with the filters of ``render.py``."""
    env = Environment(
        loader=PackageLoader("paperstand.web", "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    render.install(env)
    return env


@dataclass
class Site:
    """What every handler needs, built once per app."""

    settings: Settings
    store: Store
    templates: Environment = field(default_factory=templates)
    cache: ResponseCache = field(default_factory=ResponseCache)
    _searcher: Searcher | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _known: dict[Hashable, tuple[int, Any]] = field(default_factory=dict)

    def respond(
        self,
        request: Request,
        key: Hashable,
        make: Callable[[], str | bytes],
        media_type: str,
        ttl: float | None = None,
    ) -> Response:
        """The response for ``key`` from the cache, else ``make()``, kept under the store's
        data version with an ETag, so a client that has it already gets a 304.

        Call it from a ``def`` handler (the thread pool): it asks the store for its data
        version. Two requests missing together both render, cheaper than making readers
        wait for each other.
        """
        # A vote, a comment or a saved paper shows on the next request as an ingest does.
        version = self.store.cache_version()
        found = self.cache.get(version, key)
        if found is None:
            token = _VERSION.set(version)
            try:
                made = make()
            finally:
                _VERSION.reset(token)
            body = made.encode() if isinstance(made, str) else made
            etag = f'"{version:x}-{zlib.crc32(body):08x}"'
            self.cache.put(version, key, body, etag, ttl)
        else:
            body, etag = found.body, found.etag
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)

    def known(self, name: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept until the next write to the store: for small facts that only
        a write changes and most pages ask (is there a topic map, which author names have
        claims), so a page pays for them once per write instead of once per request.

        Under ``respond`` it costs no query at all (the request's version is at hand);
        elsewhere one, the version. ``compute`` runs after the version is read, so a value
        is never older than the version it is kept under."""
        version = _VERSION.get()
        if version is None:
            version = self.store.cache_version()
        found = self._known.get(name)
        if found is not None and found[0] == version:
            return found[1]
        value = compute()
        self._known[name] = (version, value)
        return value

    def searcher(self) -> Searcher:
        """The search service, built on first use (it may load indexes and models)."""
        with self._lock:
            if self._searcher is None:
                try:
                    from paperstand.search import Searcher
                except ImportError as exc:
                    raise Unavailable(f"search is not available: {exc}") from exc
                self._searcher = Searcher(self.store, self.settings)
            return self._searcher

    def warm(self) -> None:
        """Build the search service and load its indexes and model, so that the first
        request after a start does not wait for them (at 2.7M papers with vectors, about a
        minute of CPU without the vector cache). Run by a server in a background thread at
        start: a request meanwhile waits for the part it needs, as it would have anyway."""
        try:
            self.searcher().warm()
        except Exception as exc:  # noqa: BLE001 (only speed is lost: requests load it)
            # e.g. the model package is missing, or the server stops meanwhile
            log.warning("search not warmed: %s", exc)

    def similar(self, paper: Paper, limit: int) -> list[Hit]:
        """The papers most like ``paper`` (already read), their ranking kept for a minute
        under the data version as search answers are: a page is cached per signed-in
        visitor, so without this each reader's first view of a paper would rank its
        neighbours again (15-25 ms of CPU at 2.7M papers); a hit costs one read of the
        papers shown."""
        from paperstand.search import visible_hits

        key = ("similar-ranking", paper.id, limit)
        version = self.store.data_version()
        found = self.cache.get(version, key)
        if found is None:
            hits = self.searcher().like([paper], limit=limit)
            ranked = [(hit.paper.id, hit.score) for hit in hits]
            self.cache.put(version, key, orjson.dumps(ranked), "", SEARCH_TTL)
            return hits
        return visible_hits(self.store, orjson.loads(found.body))

    def following_count(self, user_id: int) -> int:
        """The header's count of new papers of the account's follows, on every page of a
        signed-in visitor: kept under the data version and the account's follows as they
        stand (their ids and last visits), so a page pays for two small queries (the
        follows, the data version); counting (``follows.unseen_count``) runs once after each
        ingest, follow or visit of the Following page (benchmarks/following_count.py)."""
        marks = self.store.follows.marks(user_id)
        if not marks:
            return 0
        key = ("following-count", user_id, marks)
        version = self.store.data_version()
        found = self.cache.get(version, key)
        if found is not None:
            return int(found.body)
        count = follows.unseen_count(self.store, user_id, self.saved_searches())
        # Saved searches depend on the search indexes too, which change apart from papers.
        ttl = SEARCH_TTL if any(kind == "search" for _, _, kind in marks) else None
        self.cache.put(version, key, str(count).encode(), "", ttl)
        return count

    def topics_of(self, papers: Iterable[Paper]) -> dict[str, TopicCluster]:
        """Each paper's topic cluster, for the cards' badges: one query for the whole page,
        and none while the store has no topic map (most pages, until ``topics build``)."""
        if not self.known("topic map", self.store.topics.has_map):
            return {}
        return self.store.topics.of_papers([p.id for p in papers])

    def saved_searches(self) -> follows.Search:
        """Saved searches (of follows) through the site's search, each answer kept for a
        minute under the data version."""

        def search(query: str, filters: dict[str, Any]) -> list[str]:
            key = ("follow-search", query, orjson.dumps(filters, option=orjson.OPT_SORT_KEYS))
            version = self.store.data_version()
            found = self.cache.get(version, key)
            if found is not None:
                return orjson.loads(found.body)
            try:
                result = self.searcher().search(query, limit=follows.SEARCH_DEPTH, **filters)
            except PaperstandError:  # search not set up: a saved search finds nothing yet
                return []
            paper_ids = [hit.paper.id for hit in result.hits]
            self.cache.put(version, key, orjson.dumps(paper_ids), "", SEARCH_TTL)
            return paper_ids

        return search

    def page(self, template: str, **context: Any) -> str:
        return self.templates.get_template(template).render(**context)


async def _site(request: Request) -> Site:
    # async: a dependency this cheap must not cost a trip to the thread pool.
    return request.app.state.site


SiteDep = Annotated[Site, Depends(_site)]
"""A handler parameter ``site: SiteDep`` receives the app's :class:`Site`."""
