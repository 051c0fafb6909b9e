"""Reading lists in the JSON API (Bearer token or session): list, create, read, change and
delete lists, put papers on them and take them off. Handlers parse, call
``paperstand.library`` and shape the answer (``paperstand.exports.list_object``, the JSON
export's shape).

Errors are ``{"error": ...}``: 401 without a valid token or session, 403 for a banned
account, 404 for an unknown list, a list of someone else that is private (the same answer:
nothing is revealed) or a paper not in this store, 422 for a malformed body or parameter,
429 past the rate limit of writes (``vote``: one click's worth each, as upvotes are).
Handlers are ``def``: store calls block, so they run in the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from paperstand import library
from paperstand.exports import list_object
from paperstand.web.auth import CurrentUser, RequireUser, limit
from paperstand.web.errors import documented
from paperstand.web.lists import ListAnswer, ListId
from paperstand.web.params import PaperId
from paperstand.web.site import SiteDep

router = APIRouter(tags=["lists"])


class ListSummary(BaseModel):
    id: int
    name: str
    description: str
    public: bool
    size: int = Field(description="Papers on the list.")
    updated: str


class NewList(BaseModel):
    name: str = Field(min_length=1, max_length=library.MAX_NAME, pattern=r"\S")
    description: str = Field("", max_length=library.MAX_DESCRIPTION)
    public: bool = Field(False, strict=True)


class ListChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=library.MAX_NAME, pattern=r"\S")
    description: str | None = Field(None, max_length=library.MAX_DESCRIPTION)
    public: bool | None = Field(None, strict=True)


class PaperNote(BaseModel):
    note: str = Field("", max_length=library.MAX_NOTE)


_WRITE = [limit("vote")]


def _answer(site: Any, list_id: int, viewer_id: int | None) -> dict[str, Any]:
    return list_object(library.list_view(site.store, list_id, viewer_id))


class SavedPapers(BaseModel):
    ids: list[str] = Field(description="The ids of your saved papers, the latest saved first.")


@router.get("/api/saved", responses=documented(401, 403), response_model=SavedPapers)
def api_saved(site: SiteDep, user: RequireUser) -> dict[str, Any]:
    """Your saved papers' ids (the topic map rings them)."""
    return {"ids": library.saved_ids(site.store, user.id)}


@router.get("/api/lists", responses=documented(401, 403), response_model=list[ListSummary])
def api_lists(site: SiteDep, user: RequireUser) -> list[dict[str, Any]]:
    """Your lists, the latest changed first."""
    return [
        {
            "id": found.id,
            "name": found.name,
            "description": found.description,
            "public": found.public,
            "size": found.size,
            "updated": found.updated,
        }
        for found in site.store.library.lists_of(user.id)
    ]


@router.post(
    "/api/lists",
    status_code=201,
    responses=documented(400, 401, 403, 422, 429),
    response_model=ListAnswer,
    dependencies=_WRITE,
)
def api_create_list(site: SiteDep, user: RequireUser, body: NewList) -> dict[str, Any]:
    """Make a list (private unless ``public``); the answer has its ``id``."""
    made = library.create_list(site.store, user.id, body.name, body.description, body.public)
    return _answer(site, made.id, user.id)


@router.get("/api/lists/{list_id}", responses=documented(401, 404, 422), response_model=ListAnswer)
def api_list(site: SiteDep, viewer: CurrentUser, list_id: ListId) -> dict[str, Any]:
    """A public list, or one of yours, with its papers in order."""
    return _answer(site, list_id, viewer.id if viewer else None)


@router.patch(
    "/api/lists/{list_id}",
    responses=documented(400, 401, 403, 404, 422, 429),
    response_model=ListAnswer,
    dependencies=_WRITE,
)
def api_change_list(
    site: SiteDep, user: RequireUser, list_id: ListId, body: ListChange
) -> dict[str, Any]:
    """Rename, describe, or make public or private one of your lists."""
    library.update_list(
        site.store,
        user.id,
        list_id,
        name=body.name,
        description=body.description,
        public=body.public,
    )
    return _answer(site, list_id, user.id)


@router.delete(
    "/api/lists/{list_id}",
    status_code=204,
    responses=documented(401, 403, 404, 422, 429),
    dependencies=_WRITE,
)
def api_delete_list(site: SiteDep, user: RequireUser, list_id: ListId) -> None:
    """Delete one of your lists (the papers stay in the store)."""
    site.store.library.delete_list(list_id, user.id)


@router.post(
    "/api/lists/{list_id}/papers/{paper_id:paper_id}",
    responses=documented(400, 401, 403, 404, 422, 429),
    response_model=ListAnswer,
    dependencies=_WRITE,
)
def api_add_to_list(
    site: SiteDep,
    user: RequireUser,
    list_id: ListId,
    paper_id: PaperId,
    body: Annotated[PaperNote | None, Body()] = None,
) -> dict[str, Any]:
    """Put a paper at the end of one of your lists (one on it already keeps its place;
    a ``note`` given replaces its note)."""
    library.add_paper(site.store, user.id, list_id, paper_id, body.note if body else "")
    return _answer(site, list_id, user.id)


@router.delete(
    "/api/lists/{list_id}/papers/{paper_id:paper_id}",
    status_code=204,
    responses=documented(401, 403, 404, 422, 429),
    dependencies=_WRITE,
)
def api_remove_from_list(
    site: SiteDep, user: RequireUser, list_id: ListId, paper_id: PaperId
) -> None:
    """Take a paper off one of your lists."""
    library.remove_paper(site.store, user.id, list_id, paper_id)
