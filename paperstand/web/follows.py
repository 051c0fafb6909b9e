"""Follows and author claims on the web: the Follow buttons' forms, the Following page, the
follows settings page, claim and hide forms, the admins' claim moderation page, and the JSON
API ``/api/follows``. Handlers parse, call ``paperstand.follows`` and shape the answer.

Forms carry their CSRF token (checked by ``web/auth.py``) and answer with a 303 back to the
page they came from, so they work without JavaScript and a reload never posts twice. The
Following page and the settings are the viewer's own: never cached. The header's count of
new papers is ``Site.following_count``, which ``web/auth.page_header`` asks for.

API errors are ``{"error": ...}``: 400 a value the follow cannot use (a day that does not
exist), 401 without a valid token or session, 403 banned, 404 no such follow, 422 a malformed
body, 429 past the ``follow`` rate limit (following; unfollowing is not limited).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from paperstand import follows
from paperstand.dates import DAY_PATTERN
from paperstand.web import auth
from paperstand.web.accounts import safe_next
from paperstand.web.auth import CurrentUser, RequireAdmin, RequireUser, limit
from paperstand.web.errors import documented
from paperstand.web.params import CATEGORY_PATTERN
from paperstand.web.render import author_url, category_url
from paperstand.web.site import Site, SiteDep

router = APIRouter()

FollowId = Annotated[int, Path(ge=1, le=2**62)]
ClaimId = Annotated[int, Path(ge=1, le=2**62)]
FormText = Annotated[str, Form(max_length=2000)]
NO_STORE = {"Cache-Control": "no-store"}


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(safe_next(path), status_code=303)


def _login_first(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


# --- pages and forms ------------------------------------------------------------------------


def _search_filters(since: str, until: str, category: str, has_code: str) -> dict[str, Any]:
    return {
        "since": since or None,
        "until": until or None,
        "category": category or None,
        "has_code": bool(has_code),
    }


@router.post("/follows", include_in_schema=False, dependencies=[limit("follow")])
def follow_form(
    site: SiteDep,
    user: RequireUser,
    kind: Annotated[Literal["author", "category", "search"], Form()],
    value: FormText,
    since: Annotated[str, Form(max_length=20)] = "",
    until: Annotated[str, Form(max_length=20)] = "",
    category: Annotated[str, Form(max_length=40)] = "",
    has_code: Annotated[str, Form(max_length=10)] = "",
    next: FormText = "/following",
) -> Response:
    filters = _search_filters(since, until, category, has_code) if kind == "search" else None
    follows.follow(site.store, user.id, kind, value, filters)
    return _back(next)


@router.post("/follows/{follow_id}/delete", include_in_schema=False)
def unfollow_form(
    site: SiteDep, user: RequireUser, follow_id: FollowId, next: FormText = "/settings/follows"
) -> Response:
    follows.unfollow(site.store, user.id, follow_id)
    return _back(next)


def _own_page(site: Site, request: Request, template: str, **context: Any) -> HTMLResponse:
    header, _ = auth.page_header(request)
    html = site.page(template, **context, **header)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/following", response_class=HTMLResponse, include_in_schema=False)
def following_page(request: Request, site: SiteDep, viewer: CurrentUser) -> Response:
    """Each follow with its papers that arrived since the visit before this one."""
    if viewer is None:
        return _login_first(request)
    news = follows.following(site.store, viewer.id, site.saved_searches())
    topics = site.topics_of(p for item in news for p in item.papers)
    return _own_page(site, request, "following.html", title="Following", news=news, topics=topics)


@router.get("/settings/follows", response_class=HTMLResponse, include_in_schema=False)
def follows_settings(request: Request, site: SiteDep, viewer: CurrentUser) -> Response:
    if viewer is None:
        return _login_first(request)
    return _own_page(
        site,
        request,
        "follows_settings.html",
        title="What you follow",
        follows=follows.follows_of(site.store, viewer.id),
        claims=site.store.follows.claims(user_id=viewer.id),
    )


@router.post("/claims", include_in_schema=False, dependencies=[limit("claim")])
def claim_form(
    site: SiteDep,
    user: RequireUser,
    paper: Annotated[str, Form(max_length=300)],
    author: Annotated[str, Form(max_length=300)],
    next: FormText = "/settings/follows",
) -> Response:
    follows.claim(site.store, user.id, paper, author)
    return _back(next)


@router.post("/claims/hide", include_in_schema=False)
def hide_form(
    site: SiteDep,
    user: RequireUser,
    paper: Annotated[str, Form(max_length=300)],
    author: Annotated[str, Form(max_length=300)],
    hidden: Annotated[int, Form(ge=0, le=1)] = 1,
    next: FormText = "/",
) -> Response:
    follows.hide_from_author(site.store, user.id, author, paper, hidden=bool(hidden))
    return _back(next)


@router.get("/moderation/claims", response_class=HTMLResponse, include_in_schema=False)
def moderation_page(request: Request, site: SiteDep, admin: RequireAdmin) -> Response:
    """Admins: the pending claims, to approve or reject, and the latest decided ones."""
    everything = site.store.follows.claims()
    return _own_page(
        site,
        request,
        "moderation_claims.html",
        title="Author claims",
        pending=[c for c in everything if c.status == "pending"],
        decided=[c for c in reversed(everything) if c.status != "pending"][:50],
    )


@router.post("/moderation/claims/{claim_id}", include_in_schema=False)
def decide_form(
    site: SiteDep,
    admin: RequireAdmin,
    claim_id: ClaimId,
    decision: Annotated[Literal["approve", "reject"], Form()],
) -> Response:
    follows.decide(site.store, claim_id, approve=decision == "approve")
    return _back("/moderation/claims")


# --- JSON API -------------------------------------------------------------------------------


_DAY = {"pattern": DAY_PATTERN, "format": "date"}


class SearchFiltersBody(BaseModel):
    # Days are checked by paperstand.dates (400), as everywhere: the schema documents them.
    since: str | None = Field(None, max_length=10, json_schema_extra=_DAY, description="From.")
    until: str | None = Field(None, max_length=10, json_schema_extra=_DAY, description="To.")
    category: str | None = Field(None, pattern=CATEGORY_PATTERN, description="e.g. cs.LG.")
    has_code: bool = False


class FollowRequest(BaseModel):
    kind: Literal["author", "category", "search"]
    value: str = Field(
        min_length=1,
        max_length=follows.MAX_QUERY,
        pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$",
        description="The author name, the arXiv category or the query.",
    )
    filters: SearchFiltersBody | None = Field(None, description="A search's filters only.")


class FollowAnswer(BaseModel):
    id: int
    kind: str = Field(description="author, category or search.")
    value: str = Field(description="The author name, the arXiv category or the query.")
    filters: dict[str, Any] = Field(description="A search's filters (empty otherwise).")
    created: str = Field(description="ISO 8601 UTC.")
    url: str = Field(description="The page of what is followed.")


def _url(item: follows.Follow) -> str:
    if item.kind == "author":
        return author_url(item.value)
    if item.kind == "category":
        return category_url(item.value)
    return "/search?" + urlencode({"q": item.value, **item.filters})


def _answer(item: follows.Follow) -> FollowAnswer:
    return FollowAnswer(
        id=item.id,
        kind=item.kind,
        value=item.value,
        filters=item.filters,
        created=item.created,
        url=_url(item),
    )


@router.get("/api/follows", tags=["follows"], responses=documented(401, 403))
def list_follows(site: SiteDep, user: RequireUser) -> list[FollowAnswer]:
    """What the account follows, oldest first."""
    return [_answer(item) for item in follows.follows_of(site.store, user.id)]


@router.post(
    "/api/follows",
    tags=["follows"],
    status_code=201,
    responses={
        200: {"model": FollowAnswer, "description": "Followed already: that follow."},
        **documented(400, 401, 403, 422, 429),
    },
    dependencies=[limit("follow")],
)
def add_follow(site: SiteDep, user: RequireUser, body: FollowRequest) -> Any:
    """Follow an author (by name, as on papers: case and accents do not matter), an arXiv
    category, or a search (a query with its filters). Following again answers 200 with the
    follow there is."""
    filters = body.filters.model_dump(exclude_none=True) if body.filters else None
    if filters is not None and not filters.get("has_code"):
        filters.pop("has_code", None)
    made, new = follows.follow(site.store, user.id, body.kind, body.value, filters)
    answer = _answer(made)
    if not new:
        return Response(answer.model_dump_json(), status_code=200, media_type="application/json")
    return answer


@router.delete(
    "/api/follows/{follow_id}",
    tags=["follows"],
    status_code=204,
    responses=documented(401, 403, 404, 422),
)
def delete_follow(site: SiteDep, user: RequireUser, follow_id: FollowId) -> Response:
    """Stop following (404 for a follow that is not the account's). Not rate limited: an
    account has at most a few hundred follows to remove."""
    follows.unfollow(site.store, user.id, follow_id)
    return Response(status_code=204)
