"""Reading lists and saved papers on the web: the pages and forms (``/lists``,
``/lists/{id}``, the Save button of every card) and a list's feeds and exports
(``/lists/{id}.xml``, ``.atom``, ``.bib``, ``.md``, ``.csv``, ``.json``).

Every form carries its CSRF token and answers with a 303 back to where it came from, so
the pages work without JavaScript; ``app.js`` turns the Save button into an in-place
toggle (it posts the same form and reads the JSON answer) and adds drag handles to the
owner's list (a drop posts the new place to ``/lists/{id}/move``). Reordering without a
mouse is a pair of Move up / Move down buttons per paper: plain buttons of the one
``item-actions`` form around the list, so keyboards and screen readers get them for free; a
paper's note is edited on a page of its own (``/lists/{id}/papers/{paper_id}/note``). A
BibTeX file is uploaded as a multipart form. Who may see a list is
``library.visible_list``'s decision: a private list is the same 404 as no list, for every
route here. Handlers are ``def``: store calls block.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from paperstand import library
from paperstand.errors import InvalidInput
from paperstand.exports import FORMATS, export_list
from paperstand.web import auth, syndication
from paperstand.web.accounts import safe_next
from paperstand.web.auth import CurrentUser, RequireUser, limit
from paperstand.web.errors import documented
from paperstand.web.params import PaperId
from paperstand.web.render import paper_url
from paperstand.web.site import Site, SiteDep

router = APIRouter(include_in_schema=False)
exports = APIRouter(tags=["lists"], default_response_class=Response)

ListId = Annotated[int, Path(ge=1, le=2**62, description="The list's id.")]
Name = Annotated[str, Form(max_length=library.MAX_NAME)]
Description = Annotated[str, Form(max_length=library.MAX_DESCRIPTION)]
Note = Annotated[str, Form(max_length=library.MAX_NOTE)]
PaperField = Annotated[str, Form(min_length=1, max_length=300)]
# A BibTeX file is a Zotero library at most, not a dump (bytes).
MAX_BIBTEX = 10_000_000
HTML = "text/html; charset=utf-8"
# Every write counts against the limit of votes: one click's worth each.
_LIMITED = [limit("vote")]


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _came_from(request: Request, fallback: str) -> str:
    """The page a form was sent from (its ``Referer``, when on this site), else
    ``fallback``: a Save button returns to the list it was clicked on."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return fallback
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(path) if referer.path else fallback


def _page(site: Site, request: Request, template: str, status: int = 200, **context: Any):
    header, _ = auth.page_header(request)
    html = site.page(template, **context, **header)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


# --- Save -----------------------------------------------------------------------------------


@router.post("/papers/{paper_id:paper_id}/save", dependencies=_LIMITED)
def save_paper(
    request: Request,
    site: SiteDep,
    user: RequireUser,
    paper_id: PaperId,
    saved: Annotated[int, Form(ge=0, le=1)] = 1,
) -> Response:
    """Save or unsave; a script asking for JSON gets the new state instead of a redirect."""
    pid, now_saved = library.save(site.store, user.id, paper_id, saved=bool(saved))
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"id": pid, "saved": now_saved})
    return _back(_came_from(request, paper_url(pid)))


@router.post("/papers/{paper_id:paper_id}/lists", dependencies=_LIMITED)
def add_to_list(
    site: SiteDep,
    user: RequireUser,
    paper_id: PaperId,
    list_id: Annotated[int, Form(ge=1, le=2**62)],
    note: Note = "",
) -> Response:
    """The paper page's "Add to list" form."""
    library.add_paper(site.store, user.id, list_id, paper_id, note)
    return _back(f"/lists/{list_id}")


# --- my lists -------------------------------------------------------------------------------


@router.get("/lists", response_class=HTMLResponse)
def my_lists_page(request: Request, site: SiteDep, user: CurrentUser) -> Response:
    if user is None:
        return _back("/login?next=/lists")
    saved = library.saved_papers(site.store, user.id)
    return _page(
        site,
        request,
        "lists.html",
        title="Your lists",
        lists=site.store.library.lists_of(user.id),
        saved=saved,
        topics=site.topics_of(saved),
    )


@router.post("/lists", dependencies=_LIMITED)
def create_list_form(
    site: SiteDep,
    user: RequireUser,
    name: Name,
    description: Description = "",
    public: Annotated[int, Form(ge=0, le=1)] = 0,
) -> Response:
    made = library.create_list(site.store, user.id, name, description, bool(public))
    return _back(f"/lists/{made.id}")


# --- one list -------------------------------------------------------------------------------


def list_rows(page: library.ListPage, mine: bool) -> Markup:
    """The ``<li>`` rows of a list's page, written here rather than in the template: a
    2,000-paper list is 2,000 rows, and Jinja's per-expression work (attribute lookups,
    filters, the loop object, an escape per value) cost about 40 ms of CPU for them, the
    page's largest part. Here each value is escaped once (``html.escape``: markupsafe's
    ``escape`` makes a ``Markup`` object per call, twice the cost) and put in place by
    plain formatting. The owner's rows add Up, Down and Remove buttons of the one form
    around the list (each button names its paper) and a link to the paper's note editor:
    a note form per row, with its CSRF field, made the owner's page twice the visitor's."""
    last = len(page.rows) - 1
    edit = f"/lists/{page.list.id}"
    badges: dict[int, str] = {}  # a few topics, on many rows
    out = []
    for n, row in enumerate(page.rows):
        pid = escape(row.paper_id)
        # paper_url percent-encodes all but letters, digits and "/:_.-~": safe in HTML.
        url = paper_url(row.paper_id)
        authors = escape(", ".join(row.authors[:3]))
        if len(row.authors) > 3:
            authors += " et al."
        meta = f'<span class="pid">{pid}</span>'
        if row.day:
            day = escape(row.day)
            meta += f' <time datetime="{day}">{day}</time>'
        if row.topic_id is not None:
            badge = badges.get(row.topic_id)
            if badge is None:
                label = escape(row.topic_label or "")
                badge = badges[row.topic_id] = (
                    f' <a class="topic-badge" href="/topics/{row.topic_id}" '
                    f'title="Topic: {label}">{label}</a>'
                )
            meta += badge
        note = f'<p class="note">{escape(row.note)}</p>' if row.note else ""
        controls = ""
        if mine:
            # Each control is named by a hidden label of the page ("Move up:", ...) and
            # the row's title: "Move up: <title>" to a screen reader.
            up = (
                f'<button name="up" value="{pid}" aria-labelledby="name-up t-{n}">'
                "&uarr; Up</button>"
                if n
                else ""
            )
            down = (
                f'<button name="down" value="{pid}" aria-labelledby="name-down t-{n}">'
                "&darr; Down</button>"
                if n < last
                else ""
            )
            controls = (
                f'<div class="order">{up}{down}<button name="remove" value="{pid}" '
                f'aria-labelledby="name-remove t-{n}">Remove</button><a href="{edit}{url}/note" '
                f'aria-labelledby="name-note t-{n}">Note</a></div>'
            )
        out.append(
            f'<li id="item-{n}" class="item">'
            f'<article class="card" aria-labelledby="t-{n}"><div class="body">'
            f'<h2 class="title math"><span class="rank">{n + 1}.</span> '
            f'<a id="t-{n}" href="{url}">{escape(row.title)}</a></h2>'
            f'<p class="authors">{authors}</p><p class="meta">{meta}</p>{note}</div>'
            f"{controls}</article></li>\n"
        )
    return Markup("".join(out))


@router.get("/lists/{list_id:int}", response_class=HTMLResponse)
def list_page(request: Request, site: SiteDep, list_id: ListId) -> Response:
    """The list: its papers in order, with the owner's controls when the owner asks.
    Cached per viewer under the store's versions, as every page is."""
    header, viewer_key = auth.page_header(request)
    viewer = header["viewer"]
    viewer_id = viewer.id if viewer else None
    # Who may see the list is checked on every request (a private list is a 404 even when
    # a page of it is cached); its papers are read only when the page is not in the cache.
    library.visible_list(site.store, list_id, viewer_id)

    def make() -> str:
        view = library.list_page(site.store, list_id, viewer_id)
        mine = viewer is not None and viewer.id == view.list.user_id
        return site.page(
            "reading_list.html",
            title=view.list.name,
            view=view,
            rows=list_rows(view, mine),
            mine=mine,
            feeds=[{"title": view.list.name, "path": f"/lists/{list_id}"}]
            if view.list.public
            else [],
            **header,
        )

    return site.respond(request, ("list", list_id, viewer_key), make, HTML)


@router.post("/lists/{list_id:int}/edit", dependencies=_LIMITED)
def edit_list_form(
    site: SiteDep,
    user: RequireUser,
    list_id: ListId,
    name: Name,
    description: Description = "",
    public: Annotated[int, Form(ge=0, le=1)] = 0,
) -> Response:
    library.update_list(
        site.store, user.id, list_id, name=name, description=description, public=bool(public)
    )
    return _back(f"/lists/{list_id}")


@router.post("/lists/{list_id:int}/delete", dependencies=_LIMITED)
def delete_list_form(site: SiteDep, user: RequireUser, list_id: ListId) -> Response:
    site.store.library.delete_list(list_id, user.id)
    return _back("/lists")


@router.post("/lists/{list_id:int}/add", dependencies=_LIMITED)
def add_paper_form(
    site: SiteDep, user: RequireUser, list_id: ListId, paper: PaperField, note: Note = ""
) -> Response:
    library.add_paper(site.store, user.id, list_id, paper, note)
    return _back(f"/lists/{list_id}")


@router.post("/lists/{list_id:int}/move", dependencies=_LIMITED)
def move_paper_form(
    request: Request,
    site: SiteDep,
    user: RequireUser,
    list_id: ListId,
    paper: PaperField,
    to: Annotated[int, Form(ge=0, le=1_000_000)],
) -> Response:
    """Put a paper at a place: what a drag and drop posts (asking for JSON, it gets the
    paper's new place instead of a redirect)."""
    place = library.move_paper(site.store, user.id, list_id, paper, to)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"id": paper, "position": place})
    return _back(f"/lists/{list_id}#item-{place}")


ItemButton = Annotated[str | None, Form(min_length=1, max_length=300)]


@router.post("/lists/{list_id:int}/items", dependencies=_LIMITED)
def item_buttons_form(
    site: SiteDep,
    user: RequireUser,
    list_id: ListId,
    up: ItemButton = None,
    down: ItemButton = None,
    remove: ItemButton = None,
) -> Response:
    """The Up, Down and Remove buttons of every row of the owner's page: one form, the
    pressed button names the paper (a field ``up``, ``down`` or ``remove``). Steps are
    relative, so they stay right after a drag and drop moved rows in the open page."""
    if remove is not None:
        library.remove_paper(site.store, user.id, list_id, remove)
        return _back(f"/lists/{list_id}")
    if up is None and down is None:
        raise InvalidInput("press Up, Down or Remove of a paper")
    place = library.move_paper(
        site.store, user.id, list_id, up or down or "", by=-1 if up is not None else 1
    )
    return _back(f"/lists/{list_id}#item-{place}")


@router.get("/lists/{list_id:int}/papers/{paper_id:paper_id}/note", response_class=HTMLResponse)
def note_page(
    request: Request, site: SiteDep, user: CurrentUser, list_id: ListId, paper_id: PaperId
) -> Response:
    """The owner's editor of one paper's note, opened from the row's Note link (a list's
    page carries no note forms: see :func:`list_rows`)."""
    if user is None:
        return _back("/login?next=" + quote(request.url.path, safe="/"))
    entry = library.list_entry(site.store, user.id, list_id, paper_id)
    url = paper_url(entry.item.paper_id)
    return _page(
        site,
        request,
        "list_note.html",
        title=f"Note on {entry.title}",
        rl=entry.list,
        note=entry.item.note,
        position=entry.item.position,
        paper_title=entry.title,
        paper_href=url,
        action=f"/lists/{list_id}{url}/note",
        max_note=library.MAX_NOTE,
    )


@router.post("/lists/{list_id:int}/papers/{paper_id:paper_id}/note", dependencies=_LIMITED)
def note_form(
    site: SiteDep, user: RequireUser, list_id: ListId, paper_id: PaperId, note: Note = ""
) -> Response:
    """Save the note and go back to the paper's row of the list."""
    place = library.set_note(site.store, user.id, list_id, paper_id, note)
    return _back(f"/lists/{list_id}#item-{place}")


@router.post("/lists/{list_id:int}/import", response_class=HTMLResponse, dependencies=_LIMITED)
def import_form(
    request: Request,
    site: SiteDep,
    user: RequireUser,
    list_id: ListId,
    text: Annotated[str, Form(max_length=500_000)] = "",
    bibtex: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import pasted references and/or an uploaded BibTeX file (a multipart form, the
    ``csrftoken`` field first, as the CSRF check reads it before any file); the page says
    what was added and why each reference left out was."""
    report = library.import_references(
        site.store, user.id, list_id, text=text, bibtex=bibtex_upload_text(bibtex)
    )
    return _page(
        site,
        request,
        "import_report.html",
        title="Import",
        report=report,
        reading_list=library.own_list(site.store, list_id, user.id),
    )


def bibtex_upload_text(upload: UploadFile | None) -> str:
    """An uploaded BibTeX file's text (none chosen: empty), refused when it is larger than
    :data:`MAX_BIBTEX` or not UTF-8 text."""
    if upload is None:
        return ""
    data = upload.file.read(MAX_BIBTEX + 1)
    if len(data) > MAX_BIBTEX:
        raise InvalidInput(f"a BibTeX file is at most {MAX_BIBTEX // 1_000_000} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the chosen file is not UTF-8 text (a BibTeX file)") from None


# --- feeds and exports ----------------------------------------------------------------------

_ANSWERS = documented(401, 404, 422)


def _view(site: Site, list_id: int, viewer: Any) -> library.ListView:
    return library.list_view(site.store, list_id, viewer.id if viewer else None)


@exports.get(
    "/lists/{list_id:int}.{fmt:feed_format}",
    responses={**syndication.router.responses, **_ANSWERS},
)
def list_feed(
    request: Request, site: SiteDep, viewer: CurrentUser, list_id: ListId, fmt: syndication.Format
) -> Response:
    """The list as an RSS 2.0 or Atom feed, in the list's order (private: the owner only)."""
    view = _view(site, list_id, viewer)
    base = str(request.base_url).rstrip("/")
    body = syndication.build_feed(
        base,
        request.url.path,
        f"paperstand list: {view.list.name}",
        view.list.description or f"A reading list by {view.list.owner}.",
        view.papers,
        fmt,
    )
    return Response(body, media_type=syndication.MEDIA[fmt])


def _content(media: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media: {"schema": {"type": "string"}}}}, **_ANSWERS}


def _export(request: Request, site: Site, viewer: Any, list_id: int, fmt: str) -> Response:
    """The list in one of the formats of ``paperstand.exports``, as a file to save (the
    Markdown links its papers to their pages here)."""
    view = _view(site, list_id, viewer)
    media, extension = FORMATS[fmt]
    body = export_list(view, fmt, str(request.base_url).rstrip("/"))
    attachment = f'attachment; filename="list-{view.list.id}.{extension}"'
    headers = {"Content-Disposition": attachment} if fmt in ("bib", "csv") else None
    return Response(body, media_type=media, headers=headers)


@exports.get("/lists/{list_id:int}.bib", responses=_content("application/x-bibtex"))
def list_bibtex(request: Request, site: SiteDep, viewer: CurrentUser, list_id: ListId) -> Response:
    """The list's papers as one BibTeX file."""
    return _export(request, site, viewer, list_id, "bib")


@exports.get("/lists/{list_id:int}.md", responses=_content("text/markdown"))
def list_markdown(
    request: Request, site: SiteDep, viewer: CurrentUser, list_id: ListId
) -> Response:
    """The list as Markdown: its name and description, then each paper (as
    ``/papers/{id}.md`` has it, one heading level down) with its note."""
    return _export(request, site, viewer, list_id, "md")


@exports.get("/lists/{list_id:int}.csv", responses=_content("text/csv"))
def list_csv(request: Request, site: SiteDep, viewer: CurrentUser, list_id: ListId) -> Response:
    """The list as CSV, one paper a row: position, id, title, authors (``; ``), year,
    DOI, URL, note."""
    return _export(request, site, viewer, list_id, "csv")


class ListPaper(BaseModel):
    id: str
    title: str
    authors: list[str]
    note: str = Field(description="The owner's note on this paper in this list.")

    model_config = {"extra": "allow"}


class ListAnswer(BaseModel):
    id: int
    name: str
    description: str
    public: bool
    owner: str = Field(description="The owner's public name.")
    created: str = Field(description="ISO 8601 UTC.")
    updated: str = Field(description="ISO 8601 UTC.")
    papers: list[ListPaper] = Field(description="In the list's order.")
    pending: list[str] = Field(description="Imported arXiv ids still being fetched.")


@exports.get(
    "/lists/{list_id:int}.json",
    responses={200: {"model": ListAnswer, "description": "The list."}, **_ANSWERS},
)
def list_json(request: Request, site: SiteDep, viewer: CurrentUser, list_id: ListId) -> Response:
    """The list as JSON, as ``GET /api/lists/{id}`` gives it."""
    return _export(request, site, viewer, list_id, "json")
