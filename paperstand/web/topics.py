"""Topic pages and their JSON: the topic map (``/map``), trends (``/trends``), a cluster's
page (``/topics/{id}``), and ``/api/topics/map`` and ``/api/topics/trends`` behind them.

The map is drawn in the browser by Apache ECharts (served from ``static/echarts``, no CDN)
from the compact JSON of :mod:`paperstand.topics.mapview`; the page's script
(``static/topics.js``) asks for a paper's title when its point is hovered. Answers are cached
under the store's data version and the map's own stamp (a refit or placement changes it).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperstand.dates import parse_day
from paperstand.errors import NotFound
from paperstand.topics import service
from paperstand.web.errors import documented
from paperstand.web.params import DayParam
from paperstand.web.site import Site, SiteDep

router = APIRouter()
JSON = "application/json"
HTML = "text/html; charset=utf-8"
MAX_POINTS = 100_000
CLUSTER_PAGE = 50

Since = Annotated[DayParam, Query(description="Only papers of this day or later (YYYY-MM-DD).")]
Limit = Annotated[
    int, Query(ge=1, le=MAX_POINTS, description="At most this many points, the most recent.")
]
ClusterId = Annotated[int, Path(ge=0, le=10_000, description="A topic cluster's id.")]


def _stamp(site: Site) -> tuple[Any, ...]:
    """What changes when the map does: its model and fit time, and how many points it has."""
    return site.store.topics.stamp()


def _json(request: Request, site: Site, key: tuple[Any, ...], make) -> Response:
    return site.respond(request, ("topics", *key, _stamp(site)), lambda: orjson.dumps(make()), JSON)


@router.get("/api/topics/map", tags=["paperstand"], responses=documented(400, 422))
def topic_map(
    request: Request, site: SiteDep, since: Since = None, limit: Limit = 50_000
) -> Response:
    """The topic map: parallel arrays of paper ids, quantised coordinates (``x``, ``y`` on
    a ``grid``), clusters (``c``) and days (``d``, days after ``day0``), and the clusters
    with their labels and label positions. Titles are not included: ask
    ``/api/papers/{id}`` for the one being looked at."""
    day = parse_day(since).isoformat() if since is not None else None
    return _json(
        request,
        site,
        ("map", day, limit),
        lambda: service.map_payload(site.store, since=day, limit=limit),
    )


@router.get("/api/topics/trends", tags=["paperstand"], responses=documented(422))
def topic_trends(request: Request, site: SiteDep) -> Response:
    """Papers per ISO week (the last 26) per topic cluster and per primary arXiv category,
    and the keywords rising in the last 30 days against the 90 before them."""
    return _json(request, site, ("trends",), lambda: service.trends(site.store))


def _page(request: Request, site: Site, key: tuple[Any, ...], template: str, context) -> Response:
    return site.respond(
        request,
        ("page", "topics", *key, _stamp(site)),
        lambda: site.page(template, **context()),
        HTML,
    )


@router.get("/map", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, site: SiteDep, since: Since = None) -> Response:
    # The page's form sends an empty ``since`` when no day is picked: all papers then.
    day = parse_day(since).isoformat() if since else None

    def context() -> dict[str, Any]:
        return {"title": "Topic map", "since": day, "clusters": site.store.topics.clusters()}

    return _page(request, site, ("map", day), "map.html", context)


@router.get("/trends", response_class=HTMLResponse, include_in_schema=False)
def trends_page(request: Request, site: SiteDep) -> Response:
    def context() -> dict[str, Any]:
        return {"title": "Trends", "trends": service.trends(site.store)}

    return _page(request, site, ("trends",), "trends.html", context)


@router.get("/topics/{cluster_id}", response_class=HTMLResponse, include_in_schema=False)
def cluster_page(request: Request, site: SiteDep, cluster_id: ClusterId) -> Response:
    def context() -> dict[str, Any]:
        cluster = next((c for c in site.store.topics.clusters() if c.id == cluster_id), None)
        if cluster is None:
            raise NotFound(f"no topic {cluster_id} on the current map")
        points = site.store.topics.points(cluster=cluster_id)
        recent = [p.paper_id for p in reversed(points[-CLUSTER_PAGE:])]
        return {
            "title": cluster.label,
            "cluster": cluster,
            "papers": site.store.get_papers(recent),
            # Every paper here is in this cluster: the cards' badges say so.
            "topics": dict.fromkeys(recent, cluster),
        }

    return _page(request, site, ("cluster", cluster_id), "topic.html", context)
