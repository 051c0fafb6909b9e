"""The community's pages and forms: submit a paper, upvote, comment, edit and delete one's
comments, and the admins' forms (add a paper that is not on arXiv, hide buttons). Every
form carries its CSRF token (checked by the middleware of ``web/auth.py``) and answers with
a 303 back to the page it came from, so a reload never posts twice; a refused submission
(or paper) shows the form again, filled in, with the rule broken.
Handlers are ``def``: store calls block.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperstand import community
from paperstand.errors import Conflict, PaperstandError
from paperstand.web import auth
from paperstand.web.auth import RequireAdmin, RequireUser, counting, limit
from paperstand.web.params import PaperId
from paperstand.web.render import paper_url
from paperstand.web.site import SiteDep

router = APIRouter(include_in_schema=False)

CommentText = Annotated[str, Form(max_length=community.MAX_COMMENT)]
CommentId = Annotated[int, Path(ge=1, le=2**62)]
DONE = {
    "pending": "Submitted. arXiv is being asked for the paper; it joins today's list shortly.",
}


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _submit_page(site: Any, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    header, _ = auth.page_header(request)
    html = site.page(
        "submit.html",
        title="Submit a paper",
        settings_max_age=site.settings.submission_max_age_days,
        settings_quota=site.settings.submission_daily_quota,
        done=DONE.get(request.query_params.get("done", "")),
        **context,
        **header,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, site: SiteDep) -> HTMLResponse:
    return _submit_page(site, request)


@router.post("/submit", dependencies=[limit("submit")])
def submit(
    request: Request,
    site: SiteDep,
    user: RequireUser,
    paper: Annotated[str, Form(max_length=300)],
) -> Response:
    try:
        made = community.submit(site.store, site.settings, user.id, paper)
    except Conflict as exc:
        link = paper_url(community.arxiv_id(paper))
        return _submit_page(site, request, 409, problem=str(exc), link=link, value=paper)
    except PaperstandError as exc:
        return _submit_page(site, request, exc.http_status, problem=str(exc), value=paper)
    if made.status == "pending":
        return _back("/submit?done=pending")
    return _back(paper_url(made.paper_id))


@router.post("/papers/add")
def add_paper(
    request: Request,
    site: SiteDep,
    admin: RequireAdmin,
    doi: Annotated[str, Form(max_length=300)],
    title: Annotated[str, Form(max_length=1000)],
    authors: Annotated[str, Form(max_length=50_000)] = "",
    abstract: Annotated[str, Form(max_length=20_000)] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    published: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Admins: a paper that is not on arXiv, by DOI, onto today's curated list. A refusal
    shows the form again, filled in, with the reason and a 4xx status."""
    form = dict(
        doi=doi, title=title, authors=authors, abstract=abstract, url=url, published=published
    )
    try:
        made = community.add_paper(
            site.store,
            admin.id,
            title=title,
            authors=authors.splitlines(),
            abstract=abstract,
            doi=doi,
            url=url.strip() or None,
            published=published.strip() or None,
        )
    except PaperstandError as exc:
        return _submit_page(site, request, exc.http_status, add_problem=str(exc), added=form)
    return _back(paper_url(made.paper_id))


@router.post("/papers/{paper_id:paper_id}/upvote")
def upvote(
    request: Request,
    site: SiteDep,
    user: RequireUser,
    paper_id: PaperId,
    up: Annotated[int, Form(ge=0, le=1)],
) -> Response:
    # The vote limit is counted in the vote's own transaction, as the JSON API does.
    community.vote(
        site.store.community,
        user.id,
        paper_id,
        up=bool(up),
        counting=counting(request, "vote", user),
    )
    return _back(paper_url(community.paper_id(paper_id)) + "#votes")


@router.post("/papers/{paper_id:paper_id}/comments", dependencies=[limit("comment")])
def add_comment(
    site: SiteDep,
    user: RequireUser,
    paper_id: PaperId,
    text: CommentText,
    parent: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> Response:
    made = community.comment(site.store.community, user.id, paper_id, text, parent_id=parent)
    return _back(f"{paper_url(made.paper_id)}#comment-{made.id}")


@router.post("/comments/{comment_id}/edit")
def edit_comment(
    site: SiteDep, user: RequireUser, comment_id: CommentId, text: CommentText
) -> Response:
    made = community.edit_comment(site.store.community, user.id, comment_id, text)
    return _back(f"{paper_url(made.paper_id)}#comment-{made.id}")


@router.post("/comments/{comment_id}/delete")
def delete_comment(site: SiteDep, user: RequireUser, comment_id: CommentId) -> Response:
    made = site.store.community.delete_comment(comment_id, user.id)
    return _back(f"{paper_url(made.paper_id)}#comments")


@router.post("/comments/{comment_id}/hide")
def hide_comment(
    site: SiteDep,
    admin: RequireAdmin,
    comment_id: CommentId,
    hidden: Annotated[int, Form(ge=0, le=1)] = 1,
) -> Response:
    made = site.store.community.set_comment_hidden(comment_id, bool(hidden))
    return _back(f"{paper_url(made.paper_id)}#comment-{made.id}")


@router.post("/papers/{paper_id:paper_id}/hide")
def hide_paper(
    site: SiteDep,
    admin: RequireAdmin,
    paper_id: PaperId,
    hidden: Annotated[int, Form(ge=0, le=1)] = 1,
) -> Response:
    paper = community.paper_id(paper_id)
    site.store.community.set_paper_hidden(paper, admin.id, bool(hidden))
    return _back("/" if hidden else paper_url(paper))
