"""The JSON API: Hugging Face's Papers API paths and shapes, plus paperstand's own search.

Hugging Face-compatible: ``/api/daily_papers``, ``/api/papers/{id}``,
``/api/papers/search``, ``/papers/{id}.md``. Ours: ``/api/search`` (scores, filters),
``/api/papers/{id}/similar``, ``/papers/{id}.bib``, ``/bibtex?ids=``, and an author's or a
category's papers by cursor (``/api/authors/{name}``, ``/api/categories/{category}``).

Handlers are ``def``: they run in the thread pool, where store calls may block.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from paperstand import bibtex, community, exports, feeds
from paperstand.lookup import find_paper, find_papers
from paperstand.models import Window
from paperstand.web import hf
from paperstand.web.errors import documented
from paperstand.web.params import (
    CATEGORY_PATTERN,
    BibtexIds,
    Cursors,
    DayParam,
    MonthParam,
    PaperId,
    SearchQuery,
    SortParam,
    Submitter,
    WeekParam,
)
from paperstand.web.site import SEARCH_TTL, SiteDep

router = APIRouter()

JSON = "application/json"
HF = "Hugging Face-compatible"


def _content(media_type: str) -> dict[int | str, dict[str, Any]]:
    """The documented 200 of an answer that is not JSON."""
    return {200: {"content": {media_type: {"schema": {"type": "string"}}}}}


@router.get("/api/daily_papers", tags=[HF], responses=documented(400, 422))
def daily_papers(
    request: Request,
    site: SiteDep,
    p: Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    sort: SortParam = None,
    date: DayParam = None,
    week: WeekParam = None,
    month: MonthParam = None,
    submitter: Submitter = None,
) -> Response:
    """Daily papers, ranked by upvotes; a page past the end is ``[]``. At most one of
    ``date``, ``week`` and ``month`` (400 otherwise); none: every day, the latest first."""

    def make() -> bytes:
        found = feeds.daily_papers(
            site.store,
            site.settings,
            day=date,
            week=week,
            month=month,
            submitter=submitter,
            sort=sort,
            limit=limit,
            offset=p * limit,
        )
        return orjson.dumps(
            [hf.daily_item(e.paper, e.standing, e.submitter) for e in found.entries]
        )

    key = ("daily_papers", p, limit, sort, date, week, month, submitter)
    return site.respond(request, key, make, JSON)


@router.get("/api/papers/search", tags=[HF], responses=documented(422))
def papers_search(
    request: Request,
    site: SiteDep,
    q: Annotated[str, Query(max_length=250)] = "",
    limit: Annotated[int, Query(ge=1, le=120)] = 50,
) -> Response:
    """Full-text and semantic search, items shaped like the daily list's."""
    if not q.strip():
        return Response(b"[]", media_type=JSON)

    def make() -> bytes:
        result = site.searcher().search(q, limit=limit)
        papers = [hit.paper for hit in result.hits]
        if result.direct is not None and all(p.id != result.direct.paper.id for p in papers):
            papers.insert(0, result.direct.paper)
        return orjson.dumps([hf.daily_item(paper) for paper in papers[:limit]])

    return site.respond(request, ("papers_search", q, limit), make, JSON, SEARCH_TTL)


@router.get(
    "/api/papers/{paper_id:paper_id}/similar", tags=["paperstand"], responses=documented(404, 422)
)
def similar(
    request: Request,
    site: SiteDep,
    paper_id: PaperId,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """Papers most like this one, with scores."""

    def make() -> bytes:
        paper = find_paper(site.store, paper_id)
        hits = site.similar(paper, limit)
        return orjson.dumps(
            {
                "id": paper.id,
                "hits": [{"score": h.score, **exports.paper_summary(h.paper)} for h in hits],
            }
        )

    return site.respond(request, ("similar", paper_id, limit), make, JSON, SEARCH_TTL)


@router.get("/api/papers/{paper_id:paper_id}", tags=[HF], responses=documented(404))
def paper_info(request: Request, site: SiteDep, paper_id: PaperId) -> Response:
    """One paper (``HfApi.paper_info``)."""

    def make() -> bytes:
        entry = community.paper_standing(site.store, find_paper(site.store, paper_id))
        return orjson.dumps(hf.paper_object(entry.paper, entry.standing))

    return site.respond(request, ("paper_info", paper_id), make, JSON)


@router.get("/api/search", tags=["paperstand"], responses=documented(400, 422))
def search(request: Request, site: SiteDep, params: Annotated[SearchQuery, Query()]) -> Response:
    """Hybrid search with scores and filters; a pasted id, URL or DOI comes back as
    ``direct``. ``few_good_matches`` is true when no paper matches the query well, so the
    hits are only the nearest ones (gibberish, off-topic questions)."""

    def make() -> bytes:
        result = site.searcher().search(
            params.q, limit=params.limit, offset=params.offset, **params.search_options()
        )
        direct = result.direct
        return orjson.dumps(
            {
                "query": params.q,
                "total": result.total,
                "notice": result.notice,
                "few_good_matches": result.few_good_matches,
                "direct": {"score": direct.score, **exports.paper_summary(direct.paper)}
                if direct
                else None,
                "hits": [{"score": h.score, **exports.paper_summary(h.paper)} for h in result.hits],
            }
        )

    key = ("search", *sorted(params.model_dump().items()))
    return site.respond(request, key, make, JSON, SEARCH_TTL)


MARKDOWN = "text/markdown; charset=utf-8"
BIBTEX = "application/x-bibtex; charset=utf-8"


@router.get(
    "/papers/{paper_id:paper_id}.md",
    response_class=Response,
    tags=[HF],
    responses={**_content("text/markdown"), **documented(404)},
)
def paper_markdown(request: Request, site: SiteDep, paper_id: PaperId) -> Response:
    """The paper as Markdown (``HfApi.read_paper``)."""
    paper = find_paper(site.store, paper_id)
    base = str(request.base_url).rstrip("/")
    return Response(exports.paper_markdown(paper, base), media_type=MARKDOWN)


@router.get(
    "/papers/{paper_id:paper_id}.bib",
    response_class=Response,
    tags=["paperstand"],
    responses={**_content("application/x-bibtex"), **documented(404)},
)
def paper_bibtex(site: SiteDep, paper_id: PaperId) -> Response:
    """A BibTeX entry for one paper."""
    return Response(bibtex.entry(find_paper(site.store, paper_id)), media_type=BIBTEX)


@router.get(
    "/bibtex",
    response_class=Response,
    tags=["paperstand"],
    responses={**_content("application/x-bibtex"), **documented(404, 422)},
)
def papers_bibtex(site: SiteDep, ids: BibtexIds) -> Response:
    """BibTeX entries for a list of papers (at most 500)."""
    return Response(bibtex.entries(find_papers(site.store, ids.split(","))), media_type=BIBTEX)


def _window(found: Window) -> bytes:
    return orjson.dumps(
        {
            "papers": [exports.paper_summary(p) for p in found.papers],
            "older": found.older.text() if found.older else None,
            "newer": found.newer.text() if found.newer else None,
        }
    )


PageSize = Annotated[int, Query(ge=1, le=100, description="Papers per page.")]


@router.get("/api/authors/{name:path}", tags=["paperstand"], responses=documented(400, 422))
def author_papers(
    request: Request,
    site: SiteDep,
    name: Annotated[
        str,
        Path(
            description="An author's name as readers type it (case and accents do not matter).",
            pattern=r"^[^\x00-\x1f\x7f]{1,200}$",
        ),
    ],
    cursors: Annotated[Cursors, Query()],
    limit: PageSize = 50,
) -> Response:
    """An author's papers, latest day first (a day's latest arrival first), a page at a
    time: ``older`` and ``newer`` are the cursors of the pages beside this one (pass them
    as ``before`` and ``after``)."""

    def make() -> bytes:
        return _window(site.store.author_window(name, limit=limit, **cursors.window()))

    key = ("author_papers", name, limit, cursors.before, cursors.after)
    return site.respond(request, key, make, JSON)


@router.get("/api/categories/{category}", tags=["paperstand"], responses=documented(400, 422))
def category_papers(
    request: Request,
    site: SiteDep,
    category: Annotated[str, Path(description="An arXiv category.", pattern=CATEGORY_PATTERN)],
    cursors: Annotated[Cursors, Query()],
    limit: PageSize = 50,
) -> Response:
    """A category's papers (primary or cross-listed), latest day first, paged by cursor as
    ``/api/authors/{name}`` is."""

    def make() -> bytes:
        return _window(site.store.category_window(category, limit=limit, **cursors.window()))

    key = ("category_papers", category, limit, cursors.before, cursors.after)
    return site.respond(request, key, make, JSON)
