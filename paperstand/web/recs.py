"""Personal recommendations on the web: the "For you" page with thumbs, onboarding for a new
reader, ``GET /api/recommendations`` (Bearer token or session) and the private RSS feed.

Handlers parse, call ``paperstand.recommend.service`` and shape the answer. Forms carry the
CSRF token and answer with a 303, so a reload never posts twice. A reader who has given no
signal yet gets onboarding (a page, or ``onboarding: true`` from the API), never an error.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from paperstand.errors import NotFound, PaperstandError
from paperstand.models import User
from paperstand.recommend import service
from paperstand.recommend.model import Reason
from paperstand.web import auth, hf
from paperstand.web.auth import CurrentUser, RequireUser
from paperstand.web.errors import documented
from paperstand.web.lists import MAX_BIBTEX, bibtex_upload_text
from paperstand.web.render import paper_url
from paperstand.web.site import Site, SiteDep
from paperstand.web.syndication import MEDIA, build_feed

router = APIRouter()
pages = APIRouter(include_in_schema=False)

Days = Annotated[
    int, Query(ge=1, le=service.MAX_DAYS, description="New papers of this many last days.")
]
Limit = Annotated[int, Query(ge=1, le=service.MAX_LIMIT, description="At most this many.")]


class ReasonAnswer(BaseModel):
    kind: str = Field(
        description="liked (a paper you liked near this one), author, category or search "
        "(one of your saved searches finds it)."
    )
    id: str | None = Field(None, description="The liked paper's id (kind liked).")
    title: str | None = Field(None, description="The liked paper's title (kind liked).")
    name: str | None = Field(
        None, description="The author, category or saved search's query (the other kinds)."
    )
    followed: bool = Field(False, description="An author, category or search you follow.")


class PickAnswer(BaseModel):
    paper: dict[str, Any] = Field(description="The paper, as /api/papers/{id} shows it.")
    score: float = Field(description="The model's score: higher is a better match.")
    reasons: list[ReasonAnswer]


class RecommendationsAnswer(BaseModel):
    onboarding: bool = Field(
        description="True when you have given no signal yet: pick papers at onboardingUrl."
    )
    onboardingUrl: str
    first: str | None = Field(description="The first day of the papers considered.")
    last: str | None = Field(description="The last day of the papers considered.")
    recommendations: list[PickAnswer]


def reason_object(reason: Reason) -> dict[str, Any]:
    if reason.kind == "liked":
        return {"kind": "liked", "id": reason.value, "title": reason.title}
    return {"kind": reason.kind, "name": reason.value, "followed": reason.followed}


def _feed(site: Site, user: User, days: int, limit: int) -> service.ForYou:
    return service.for_you(
        site.store,
        site.settings.embedding_model,
        user.id,
        days=days,
        limit=limit,
        search=site.saved_searches(),
    )


@router.get(
    "/api/recommendations",
    tags=["recommendations"],
    responses=documented(401, 403, 422),
    response_model=RecommendationsAnswer,
)
def recommendations(
    site: SiteDep,
    user: RequireUser,
    days: Days = service.DEFAULT_DAYS,
    limit: Limit = service.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """New papers of the last ``days`` days ranked for you, each with why it was picked: the
    liked papers nearest to it, or an author or category you follow or liked before."""
    found = _feed(site, user, days, limit)
    return {
        "onboarding": found.onboarding,
        "onboardingUrl": "/for-you/start",
        "first": found.first,
        "last": found.last,
        "recommendations": [
            {
                "paper": hf.paper_object(pick.paper),
                "score": round(pick.score, 4),
                "reasons": [reason_object(r) for r in pick.reasons],
            }
            for pick in found.picks
        ],
    }


class FeedbackRequest(BaseModel):
    id: str = Field(min_length=1, max_length=300, description="The paper's id or URL.")
    value: int = Field(ge=-1, le=1, description="1 more like this, -1 fewer, 0 neither.")


@router.post(
    "/api/recommendations/feedback",
    tags=["recommendations"],
    status_code=204,
    responses=documented(400, 401, 403, 404, 422),
)
def recommendation_feedback(site: SiteDep, user: RequireUser, body: FeedbackRequest) -> None:
    """Thumbs up or down on a paper (or take the thumb back): the next recommendations
    follow it."""
    service.thumb(site.store, user.id, body.id, body.value)


FeedToken = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get(
    "/feeds/for-you/{token}.xml",
    tags=["feeds"],
    response_class=Response,
    responses={
        200: {"content": {"application/rss+xml": {"schema": {"type": "string"}}}},
        **documented(404, 422),
    },
)
def for_you_feed(request: Request, site: SiteDep, token: FeedToken) -> Response:
    """Your "for you" papers as RSS; the token in the path is the private one made on the
    For you page (a new one replaces it)."""
    user_id = service.feed_owner(site.store, token)
    if user_id is None:
        raise NotFound("no such feed (was its link replaced by a new one?)")
    found = service.for_you(
        site.store,
        site.settings.embedding_model,
        user_id,
        limit=50,
        search=site.saved_searches(),
    )
    base = str(request.base_url).rstrip("/")
    body = build_feed(
        base,
        "/for-you",
        "paperstand: for you",
        "New papers picked for you.",
        [pick.paper for pick in found.picks],
        "xml",
    )
    return Response(body, media_type=MEDIA["xml"], headers={"Cache-Control": "private"})


# --- pages -------------------------------------------------------------------------------


def _page(
    site: Site, request: Request, template: str, title: str, status: int = 200, **context: Any
) -> HTMLResponse:
    header, _ = auth.page_header(request)
    html = site.page(template, title=title, **context, **header)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _for_you_page(
    site: Site, request: Request, viewer: User, days: int, feed_url: str | None = None
) -> Response:
    found = _feed(site, viewer, days, service.DEFAULT_LIMIT)
    if found.onboarding:
        return RedirectResponse("/for-you/start", status_code=303)
    return _page(
        site,
        request,
        "for_you.html",
        "For you",
        found=found,
        days=days,
        paper_url=paper_url,
        feed_url=feed_url,
        has_feed=site.store.recs.has_feed_token(viewer.id),
        topics=site.topics_of(pick.paper for pick in found.picks),
    )


@pages.get("/for-you", response_class=HTMLResponse)
def for_you_page(
    request: Request, site: SiteDep, viewer: CurrentUser, days: Days = service.DEFAULT_DAYS
) -> Response:
    if viewer is None:
        return RedirectResponse("/login?next=/for-you", status_code=303)
    return _for_you_page(site, request, viewer, days)


def _start_page(site: Site, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    sample = service.onboarding_sample(site.store)
    return _page(
        site,
        request,
        "for_you_start.html",
        "Tell us what you read",
        status,
        sample=sample,
        minimum=service.MIN_PICKS,
        paper_url=paper_url,
        **context,
    )


@pages.get("/for-you/start", response_class=HTMLResponse)
def start_page(request: Request, site: SiteDep, viewer: CurrentUser) -> Response:
    if viewer is None:
        return RedirectResponse("/login?next=/for-you/start", status_code=303)
    return _start_page(site, request)


@pages.post("/for-you/start")
def start(
    request: Request,
    site: SiteDep,
    user: RequireUser,
    pick: Annotated[list[str], Form(max_length=service.MAX_LIMIT)] = [],  # noqa: B006
    pasted: Annotated[str, Form(max_length=20_000)] = "",
    bibtex: Annotated[str, Form(max_length=MAX_BIBTEX)] = "",
    bibfile: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Record the picks, pasted ids and BibTeX papers: pasted BibTeX text and/or an
    uploaded file (a multipart form with the ``csrftoken`` field first, as on the list
    import form)."""
    try:
        bibtex = "\n".join(t for t in (bibtex, bibtex_upload_text(bibfile)) if t)
        done = service.onboard(site.store, user.id, pick, pasted, bibtex)
    except PaperstandError as exc:
        return _start_page(site, request, exc.http_status, problem=str(exc), pasted=pasted)
    if done.unknown or done.problems:
        return _start_page(
            site,
            request,
            recorded=len(done.recorded),
            problem=(
                "Not in this store (left out): " + ", ".join(done.unknown[:20])
                if done.unknown
                else None
            ),
            left_out=done.problems,
        )
    return RedirectResponse("/for-you", status_code=303)


@pages.post("/for-you/feedback")
def feedback(
    site: SiteDep,
    user: RequireUser,
    paper: Annotated[str, Form(max_length=300)],
    value: Annotated[int, Form(ge=-1, le=1)],
) -> Response:
    service.thumb(site.store, user.id, paper, value)
    return RedirectResponse("/for-you", status_code=303)


@pages.post("/for-you/feed-token", response_class=HTMLResponse)
def feed_token(request: Request, site: SiteDep, user: RequireUser) -> Response:
    """A new private feed link, shown once on the page (never put in a URL we redirect to,
    where logs and history would keep it)."""
    token = service.new_feed_token(site.store, user.id)
    base = str(request.base_url).rstrip("/")
    return _for_you_page(
        site, request, user, service.DEFAULT_DAYS, f"{base}/feeds/for-you/{token}.xml"
    )
