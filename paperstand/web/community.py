"""The community's JSON API (Bearer token or session): upvotes, comments, submissions and
moderation. Handlers parse, call ``paperstand.community`` and shape the answer.

Answers: ``upvotes`` is always the documented sum of the votes given here
(``localUpvotes``) and the upvotes imported from Hugging Face (``hfUpvotes``), which are
stored apart. Every error is ``{"error": ...}``: 401 without a valid token or session, 403
for a banned account (or a non-admin asking for moderation), 404 for an unknown or hidden
paper, 409 for a paper submitted before (with ``url``, its page), 422 for a rule broken or
a malformed body, 429 past a rate limit (with ``Retry-After``).

Handlers are ``def``: store calls block, so they run in the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from paperstand import community
from paperstand.errors import Conflict
from paperstand.markdown import render_markdown
from paperstand.store.community import Comment, Standing, Submission
from paperstand.web import hf
from paperstand.web.auth import (
    CurrentUser,
    RequireAdmin,
    RequireUser,
    counting,
    limit,
    signed_in,
)
from paperstand.web.errors import ErrorBody, documented
from paperstand.web.params import PaperId
from paperstand.web.site import SiteDep

router = APIRouter(tags=["community"])


class VoteAnswer(BaseModel):
    upvotes: int = Field(description="localUpvotes + hfUpvotes.")
    upvoted: bool = Field(description="Whether the asking account's upvote stands now.")
    localUpvotes: int = Field(description="Upvotes given on this site, one per account.")
    hfUpvotes: int = Field(description="Upvotes imported from Hugging Face.")


class CommentAnswer(BaseModel):
    id: int
    author: str | None = Field(description="The author's public name.")
    created: str = Field(description="ISO 8601 UTC.")
    edited: str | None = None
    html: str = Field(description="The Markdown as sanitised HTML.")
    parentId: int | None = Field(None, description="The top-level comment replied to.")
    deleted: bool = False
    replies: list[CommentAnswer] = Field(default_factory=list)


class CommentRequest(BaseModel):
    text: str = Field(min_length=1, max_length=community.MAX_COMMENT, description="Markdown.")
    parentId: int | None = Field(None, ge=1, description="Reply to this comment.")


# What the submit form and API take, exactly as ``community.arxiv_id`` reads it, so that a
# value the schema allows is never refused as malformed.
_ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v\d{1,3})?"
SUBMIT_PATTERN = (
    rf"^(?:{_ARXIV_ID}|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/{_ARXIV_ID}(?:\.pdf)?)$"
)


class SubmitRequest(BaseModel):
    id: str = Field(
        min_length=1,
        max_length=300,
        pattern=SUBMIT_PATTERN,
        description="An arXiv id (new or old style, any version) or its arxiv.org URL.",
    )


class SubmitAnswer(BaseModel):
    id: str
    status: str = Field(description="ready (listed), or pending while arXiv is asked.")
    day: str = Field(description="The curated list the paper joins, YYYY-MM-DD.")
    url: str = Field(description="The paper's page here.")
    paper: dict[str, Any] | None = Field(description="The paper, once its metadata is here.")


class ConflictBody(ErrorBody):
    url: str = Field(description="The page of the paper submitted before.")


class HideRequest(BaseModel):
    hidden: bool = True


def numbers(standing: Standing) -> dict[str, Any]:
    """The community fields every paper object of the API carries."""
    return {
        "upvotes": standing.upvotes,
        "localUpvotes": standing.local_votes,
        "hfUpvotes": standing.hf_votes,
        "numComments": standing.comments,
    }


def comment_object(item: Comment) -> dict[str, Any]:
    return {
        "id": item.id,
        "author": None if item.deleted else item.author,
        "created": item.created,
        "edited": item.edited,
        "html": "" if item.deleted else str(render_markdown(item.body)),
        "parentId": item.parent_id,
        "deleted": item.deleted,
    }


def _vote(request: Request, site: Any, paper_id: str, up: bool) -> Response:
    # One trip to the thread pool: the token is looked up here, not by a dependency of its
    # own; the vote limit is counted in the vote's own transaction (one commit, not two);
    # and the answer is encoded here: FastAPI's validation of a returned dict against
    # ``VoteAnswer`` (still the documented schema) cost a twentieth of a vote's CPU.
    user = signed_in(request)
    standing = community.vote(
        site.store.community,
        user.id,
        paper_id,
        up=up,
        counting=counting(request, "vote", user),
    )
    return Response(
        orjson.dumps(
            {
                "upvotes": standing.upvotes,
                "upvoted": standing.upvoted,
                "localUpvotes": standing.local_votes,
                "hfUpvotes": standing.hf_votes,
            }
        ),
        media_type="application/json",
    )


_VOTE = {
    "responses": documented(401, 403, 404, 422, 429),
    "response_model": VoteAnswer,
}


@router.post("/api/papers/{paper_id:paper_id}/upvote", **_VOTE)
def upvote(request: Request, site: SiteDep, paper_id: PaperId) -> Response:
    """Upvote the paper; a second upvote changes nothing."""
    return _vote(request, site, paper_id, True)


@router.delete("/api/papers/{paper_id:paper_id}/upvote", **_VOTE)
def take_back_upvote(request: Request, site: SiteDep, paper_id: PaperId) -> Response:
    """Take the upvote back; without one, nothing changes."""
    return _vote(request, site, paper_id, False)


@router.get(
    "/api/papers/{paper_id:paper_id}/comments",
    responses=documented(401, 404, 422),
    response_model=list[CommentAnswer],
)
def comments(site: SiteDep, viewer: CurrentUser, paper_id: PaperId) -> list[dict[str, Any]]:
    """The paper's comments, oldest first, each with its replies (one level)."""
    entry = community.paper_standing(site.store, paper_id)
    found = site.store.community.comments(entry.paper.id)
    return [
        {**comment_object(top), "replies": [comment_object(reply) for reply in replies]}
        for top, replies in community.thread(found)
    ]


@router.post(
    "/api/papers/{paper_id:paper_id}/comments",
    status_code=201,
    responses=documented(400, 401, 403, 404, 422, 429),
    response_model=CommentAnswer,
    dependencies=[limit("comment")],
)
def add_comment(
    site: SiteDep, user: RequireUser, paper_id: PaperId, body: CommentRequest
) -> dict[str, Any]:
    """Comment on the paper (Markdown; raw HTML is shown as text), or reply to a comment."""
    made = community.comment(
        site.store.community, user.id, paper_id, body.text, parent_id=body.parentId
    )
    return comment_object(made)


@router.post(
    "/api/papers/submit",
    status_code=201,
    responses={
        **documented(400, 401, 403, 422, 429),
        409: {"model": ConflictBody, "description": "Submitted (or featured) before."},
    },
    response_model=SubmitAnswer,
    dependencies=[limit("submit")],
)
def submit(site: SiteDep, user: RequireUser, body: SubmitRequest) -> Any:
    """Submit an arXiv paper to today's curated list. Its metadata is fetched in the
    background when the store does not have it yet (``status`` pending until then)."""
    try:
        made = community.submit(site.store, site.settings, user.id, body.id)
    except Conflict as exc:
        paper = community.arxiv_id(body.id)
        return JSONResponse({"error": str(exc), "url": f"/papers/{paper}"}, status_code=409)
    return _submitted(site, made)


def _submitted(site: Any, made: Submission) -> dict[str, Any]:
    paper = site.store.get_paper(made.paper_id) if made.status == "ready" else None
    return {
        "id": made.paper_id,
        "status": made.status,
        "day": made.day,
        "url": f"/papers/{made.paper_id}",
        "paper": hf.paper_object(paper) if paper else None,
    }


CommentId = Annotated[int, Path(ge=1, le=2**62)]


@router.post(
    "/api/papers/{paper_id:paper_id}/hide",
    status_code=204,
    responses=documented(401, 403, 404, 422),
)
def hide_paper(
    site: SiteDep, admin: RequireAdmin, paper_id: PaperId, body: Annotated[HideRequest, Body()]
) -> None:
    """Admins: hide the paper from every list and page (``hidden: false`` shows it again)."""
    site.store.community.set_paper_hidden(community.paper_id(paper_id), admin.id, body.hidden)


@router.post(
    "/api/comments/{comment_id}/hide", status_code=204, responses=documented(401, 403, 404, 422)
)
def hide_comment(
    site: SiteDep, admin: RequireAdmin, comment_id: CommentId, body: Annotated[HideRequest, Body()]
) -> None:
    """Admins: hide a comment (``hidden: false`` shows it again)."""
    site.store.community.set_comment_hidden(comment_id, body.hidden)


@router.patch(
    "/api/comments/{comment_id}",
    responses=documented(400, 401, 403, 404, 422),
    response_model=CommentAnswer,
)
def edit_comment(
    site: SiteDep, user: RequireUser, comment_id: CommentId, body: CommentRequest
) -> dict[str, Any]:
    """Edit your own comment."""
    made = community.edit_comment(site.store.community, user.id, comment_id, body.text)
    return comment_object(made)


@router.delete(
    "/api/comments/{comment_id}", status_code=204, responses=documented(401, 403, 404, 422)
)
def delete_comment(site: SiteDep, user: RequireUser, comment_id: CommentId) -> None:
    """Delete your own comment (its replies stay)."""
    site.store.community.delete_comment(comment_id, user.id)


class AddPaperRequest(BaseModel):
    doi: str = Field(min_length=1, max_length=300, description="The paper's DOI (or its URL).")
    title: str = Field(min_length=1, max_length=1000)
    authors: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=500
    )
    abstract: str = Field("", max_length=20_000)
    url: str | None = Field(None, max_length=2000, pattern=r"^https?://")
    published: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")


@router.post(
    "/api/papers/add",
    status_code=201,
    responses={
        **documented(400, 401, 403, 422),
        409: {"model": ConflictBody, "description": "On a curated list already."},
    },
    response_model=SubmitAnswer,
)
def add_paper(site: SiteDep, admin: RequireAdmin, body: AddPaperRequest) -> Any:
    """Admins: add a paper that is not on arXiv, by DOI, to today's curated list."""
    try:
        made = community.add_paper(
            site.store,
            admin.id,
            title=body.title,
            authors=body.authors,
            abstract=body.abstract,
            doi=body.doi,
            url=body.url,
            published=body.published,
        )
    except Conflict as exc:
        return JSONResponse({"error": str(exc), "url": f"/papers/{body.doi}"}, status_code=409)
    return _submitted(site, made)
