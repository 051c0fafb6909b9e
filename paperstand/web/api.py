"""The JSON API: Hugging Face's Papers API paths and shapes, plus paperstand's own search.

Hugging Face-compatible: ``/api/daily_papers``, ``/api/papers/{id}``,
``/api/papers/search``, ``/papers/{id}.md``. Ours: ``/api/search`` (scores, filters),
``/api/papers/{id}/similar``, ``/papers/{id}.bib`` and ``/bibtex?ids=``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from paperstand import feeds
from paperstand.errors import InvalidInput
from paperstand.models import Paper
from paperstand.web import bibtex, hf
from paperstand.web.app import SEARCH_TTL, site_of
from paperstand.web.lookup import find_paper, find_papers

router = APIRouter()


JSON = "application/json"


def summary(paper: Paper) -> dict[str, Any]:
    """A paper as paperstand's own API lists it."""
    return {
        "id": paper.id,
        "title": paper.title,
        "authors": paper.authors,
        "categories": paper.categories,
        "day": hf.paper_day(paper),
        "published": paper.published,
        "upvotes": paper.upvotes,
        "github_repo": paper.github_repo,
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "abstract": paper.abstract,
    }


def check_day(value: str | None, name: str) -> str | None:
    if value is not None:
        feeds.parse_day(value, name)
    return value


@router.get("/api/daily_papers", tags=["Hugging Face-compatible"])
async def daily_papers(
    request: Request,
    p: Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    sort: Annotated[Literal["publishedAt", "trending"] | None, Query()] = None,
    date: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(description="YYYY-Www (ISO week)")] = None,
    month: Annotated[str | None, Query(description="YYYY-MM")] = None,
    submitter: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Daily papers, ranked by upvotes; a page past the end is ``[]``."""
    site = site_of(request)

    def make() -> bytes:
        found = feeds.daily_papers(
            site.store,
            day=date,
            week=week,
            month=month,
            submitter=submitter,
            sort=sort,
            limit=limit,
            offset=p * limit,
        )
        return orjson.dumps([hf.daily_item(paper) for paper in found.papers])

    key = ("daily_papers", p, limit, sort, date, week, month, submitter)
    return await site.respond(request, key, make, JSON)


@router.get("/api/papers/search", tags=["Hugging Face-compatible"])
async def papers_search(
    request: Request,
    q: Annotated[str, Query(max_length=250)] = "",
    limit: Annotated[int, Query(ge=1, le=120)] = 50,
) -> Response:
    """Full-text and semantic search, items shaped like the daily list's."""
    site = site_of(request)
    if not q.strip():
        return Response(b"[]", media_type=JSON)

    def make() -> bytes:
        result = site.searcher().search(q, limit=limit)
        papers = [hit.paper for hit in result.hits]
        if result.direct is not None and all(p.id != result.direct.paper.id for p in papers):
            papers.insert(0, result.direct.paper)
        return orjson.dumps([hf.daily_item(paper) for paper in papers[:limit]])

    return await site.respond(request, ("papers_search", q, limit), make, JSON, SEARCH_TTL)


@router.get("/api/papers/{paper_id:path}/similar", tags=["paperstand"])
async def similar(
    request: Request, paper_id: str, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> Response:
    """Papers most like this one, with scores."""
    site = site_of(request)

    def make() -> bytes:
        paper = find_paper(site.store, paper_id)
        hits = site.searcher().similar(paper.id, limit=limit)
        return orjson.dumps(
            {"id": paper.id, "hits": [{"score": h.score, **summary(h.paper)} for h in hits]}
        )

    return await site.respond(request, ("similar", paper_id, limit), make, JSON, SEARCH_TTL)


@router.get("/api/papers/{paper_id:path}", tags=["Hugging Face-compatible"])
async def paper_info(request: Request, paper_id: str) -> Response:
    """One paper (``HfApi.paper_info``)."""
    site = site_of(request)

    def make() -> bytes:
        return orjson.dumps(hf.paper_object(find_paper(site.store, paper_id)))

    return await site.respond(request, ("paper_info", paper_id), make, JSON)


@router.get("/api/search", tags=["paperstand"])
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=250)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    since: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    has_code: bool = False,
) -> Response:
    """Hybrid search with scores and filters; a pasted id, URL or DOI comes back as
    ``direct``."""
    site = site_of(request)
    check_day(since, "since")
    check_day(until, "until")
    if since and until and since > until:
        raise InvalidInput("since must not be after until")

    def make() -> bytes:
        result = site.searcher().search(
            q,
            limit=limit,
            offset=offset,
            since=since,
            until=until,
            category=category,
            has_code=has_code,
        )
        direct = result.direct
        return orjson.dumps(
            {
                "query": q,
                "total": result.total,
                "notice": result.notice,
                "few_good_matches": result.few_good_matches,
                "direct": {"score": direct.score, **summary(direct.paper)} if direct else None,
                "hits": [{"score": h.score, **summary(h.paper)} for h in result.hits],
            }
        )

    key = ("search", q, limit, offset, since, until, category, has_code)
    return await site.respond(request, key, make, JSON, SEARCH_TTL)


@router.get(
    "/papers/{paper_id:path}.md",
    response_class=PlainTextResponse,
    tags=["Hugging Face-compatible"],
)
def paper_markdown(request: Request, paper_id: str) -> PlainTextResponse:
    """The paper as Markdown (``HfApi.read_paper``)."""
    paper = find_paper(site_of(request).store, paper_id)
    base = str(request.base_url).rstrip("/")
    return PlainTextResponse(hf.markdown(paper, base), media_type="text/markdown; charset=utf-8")


BIBTEX = "application/x-bibtex; charset=utf-8"


@router.get("/papers/{paper_id:path}.bib", response_class=PlainTextResponse, tags=["paperstand"])
def paper_bibtex(request: Request, paper_id: str) -> PlainTextResponse:
    """A BibTeX entry for one paper."""
    paper = find_paper(site_of(request).store, paper_id)
    return PlainTextResponse(bibtex.entry(paper), media_type=BIBTEX)


@router.get("/bibtex", response_class=PlainTextResponse, tags=["paperstand"])
def papers_bibtex(
    request: Request,
    ids: Annotated[
        list[str], Query(min_length=1, description="Paper ids, repeated or comma-separated.")
    ],
) -> PlainTextResponse:
    """BibTeX entries for a list of papers (at most 500)."""
    wanted = [part.strip() for value in ids for part in value.split(",") if part.strip()]
    if not wanted or len(wanted) > 500:
        raise InvalidInput("ids: give between 1 and 500 paper ids")
    papers = find_papers(site_of(request).store, wanted)
    return PlainTextResponse(bibtex.entries(papers), media_type=BIBTEX)
