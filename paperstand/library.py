"""A reader's library: saved papers and reading lists, for every face.

The web pages, the JSON API and the jobs call these functions with the acting user's id
(the faces have checked who it is) and never touch the store's library tables themselves.

**Saved** is the one-click bookmark on every card; **reading lists** are named, described,
ordered, with a note per paper, private unless made public. Who may see a list is decided
here, once, by :func:`visible_list`: a private list is :class:`NotFound` to everyone but
its owner, the same answer as a list that does not exist, for every page, feed, export and
API call that shows one.

**Import** takes pasted references (arXiv ids, arxiv.org or huggingface.co/papers links,
DOIs, separated by lines, spaces or commas) or a BibTeX file (parsed by ``bibtexparser``;
an entry names its paper by ``eprint``, ``doi`` or an arXiv ``url``). Every reference
that cannot be used is reported with its reason; the usable ones are added in one
transaction, together with one queued job (``library-fetch``) fetching the arXiv papers the
store lacks, so an import is all there or not at all. A DOI the store lacks cannot be
fetched (only arXiv has an API here) and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from paperstand import ids
from paperstand.errors import InvalidInput, NotFound
from paperstand.lookup import resolve
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.sources import arxiv_api
from paperstand.sources.http import Fetcher
from paperstand.store import Store
from paperstand.store.library import ListItem, ListRow, ReadingList

# The background job fetching imported arXiv papers the store lacks (registered in jobs.py).
FETCH_JOB = "library-fetch"
MAX_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_NOTE = 2_000
# One import at most: a large Zotero library, not a dump of arXiv.
MAX_IMPORT = 5_000
_SEPARATORS = re.compile(r"[\s,;]+")


def saved_paper_ids(store: Store, user_id: int) -> set[str]:
    """Every paper the user saved or put in any of their lists (what recommendations and
    digests learn a reader's taste from), stored yet or still being fetched."""
    return store.library.library_ids(user_id)


def _paper_id(store: Store, reference: str) -> str:
    """The id of the stored, visible paper ``reference`` names; :class:`NotFound` else."""
    paper = resolve(store, reference)  # None for deleted and hidden papers too
    if paper is None:
        raise NotFound(f"paper {reference[:100]!r} is not in this store")
    return paper.id


# --- saved papers ---------------------------------------------------------------------------


def save(store: Store, user_id: int, reference: str, *, saved: bool = True) -> tuple[str, bool]:
    """Save (or, ``saved=False``, unsave) a stored paper; idempotent both ways. Returns the
    paper's id and whether it is saved now."""
    paper_id = _paper_id(store, reference)
    return paper_id, store.library.set_saved(user_id, paper_id, saved)


def saved_papers(store: Store, user_id: int) -> list[Paper]:
    """The user's saved papers that are stored and visible, latest saved first."""
    return _visible(store, store.library.saved(user_id))


def saved_ids(store: Store, user_id: int) -> list[str]:
    """The ids of :func:`saved_papers`, read without the papers."""
    return store.library.visible_saved(user_id)


def saved_among(store: Store, user_id: int | None, papers: Iterable[Any]) -> set[str]:
    """Which of the papers (or ids) on a page the user saved: the state of its Save
    buttons (none for visitors)."""
    if user_id is None:
        return set()
    wanted = [p if isinstance(p, str) else p.id for p in papers]
    return store.library.is_saved(user_id, wanted)


def _visible(store: Store, paper_ids: list[str]) -> list[Paper]:
    return [p for p in store.get_papers(paper_ids) if p.visible]


# --- reading lists --------------------------------------------------------------------------


def _clean(text: str | None, limit: int, what: str, *, required: bool = False) -> str:
    text = (text or "").replace("\x00", "").strip()
    if required and not text:
        raise InvalidInput(f"a list needs a {what}")
    if len(text) > limit:
        raise InvalidInput(f"a {what} is at most {limit:,} characters")
    return text


def create_list(
    store: Store, user_id: int, name: str, description: str = "", public: bool = False
) -> ReadingList:
    return store.library.create_list(
        user_id,
        " ".join(_clean(name, MAX_NAME, "name", required=True).split()),
        _clean(description, MAX_DESCRIPTION, "description"),
        bool(public),
    )


def update_list(
    store: Store,
    user_id: int,
    list_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    public: bool | None = None,
) -> ReadingList:
    """Change what is given of the user's list (:class:`NotFound` for anyone else's)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = " ".join(_clean(name, MAX_NAME, "name", required=True).split())
    if description is not None:
        changes["description"] = _clean(description, MAX_DESCRIPTION, "description")
    if public is not None:
        changes["public"] = bool(public)
    return store.library.update_list(list_id, user_id, **changes)


def visible_list(store: Store, list_id: int, viewer_id: int | None) -> ReadingList:
    """The list, when the viewer may see it: public, or theirs. :class:`NotFound` otherwise,
    as for a list that does not exist."""
    found = store.library.get_list(list_id)
    if found is None or not (found.public or found.user_id == viewer_id):
        raise NotFound(f"no list {list_id}")
    return found


def own_list(store: Store, list_id: int, user_id: int) -> ReadingList:
    found = store.library.get_list(list_id)
    if found is None or found.user_id != user_id:
        raise NotFound(f"no list {list_id} of yours")
    return found


@dataclass(frozen=True, slots=True)
class ListView:
    """A list with its stored, visible papers in order (each with its item: the note) and
    the ids still being fetched from arXiv."""

    list: ReadingList
    entries: list[tuple[Paper, ListItem]]
    pending: list[str]

    @property
    def papers(self) -> list[Paper]:
        return [paper for paper, _ in self.entries]


def list_view(store: Store, list_id: int, viewer_id: int | None) -> ListView:
    """What a page, feed or export of the list shows the viewer (:func:`visible_list`)."""
    found = visible_list(store, list_id, viewer_id)
    items = store.library.items(list_id)
    stored = {p.id: p for p in store.get_papers([item.paper_id for item in items])}
    entries, pending = [], []
    for item in items:
        paper = stored.get(item.paper_id)
        if paper is None:
            pending.append(item.paper_id)
        elif paper.visible:
            entries.append((paper, item))
    return ListView(found, entries, pending)


@dataclass(frozen=True, slots=True)
class ListPage:
    """What the list's own page shows: the rows of its stored, visible papers in order
    (only the columns a row shows, with each paper's topic cluster) and the ids still
    being fetched. The page of a 2,000-paper list reads no abstracts; feeds and exports
    read whole papers through :func:`list_view`."""

    list: ReadingList
    rows: list[ListRow]
    pending: list[str]


def list_page(store: Store, list_id: int, viewer_id: int | None) -> ListPage:
    """The list's page for the viewer (:func:`visible_list`)."""
    found = visible_list(store, list_id, viewer_id)
    rows, pending = [], []
    for row in store.library.rows(list_id):
        if row.title is None:
            pending.append(row.paper_id)
        else:
            rows.append(row)
    return ListPage(found, rows, pending)


def add_paper(store: Store, user_id: int, list_id: int, reference: str, note: str = "") -> str:
    """Put a stored paper at the end of the user's list (a paper on it already keeps its
    place; a note given replaces its note). Returns the paper's id."""
    paper_id = _paper_id(store, reference)
    store.library.add_items(list_id, user_id, [(paper_id, _clean(note, MAX_NOTE, "note"))])
    return paper_id


def remove_paper(store: Store, user_id: int, list_id: int, reference: str) -> None:
    paper_id = ids.normalise_id(reference)
    if not store.library.remove_item(list_id, user_id, paper_id):
        raise NotFound(f"{paper_id} is not on list {list_id}")


def move_paper(
    store: Store, user_id: int, list_id: int, reference: str, to: int | None = None, by: int = 0
) -> int:
    """Put a paper of the user's list at position ``to`` (0 is first), or ``by`` places
    up (negative) or down from where it is, as far as the list goes. Returns its new
    position."""
    return store.library.move_item(list_id, user_id, ids.normalise_id(reference), to, by)


def set_note(store: Store, user_id: int, list_id: int, reference: str, note: str) -> int:
    """Replace the note on a paper of the user's list; returns the paper's position."""
    return store.library.set_note(
        list_id, user_id, ids.normalise_id(reference), _clean(note, MAX_NOTE, "note")
    )


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One paper of the user's own list, for its note editor: the list, the item (note,
    position) and the paper's title (its id while it is being fetched)."""

    list: ReadingList
    item: ListItem
    title: str


def list_entry(store: Store, user_id: int, list_id: int, reference: str) -> ListEntry:
    """A paper of the user's list (:class:`NotFound` for another's list or a paper not on
    it)."""
    found = own_list(store, list_id, user_id)
    paper_id = ids.normalise_id(reference)
    items = store.library.items(list_id, paper_id)
    if not items:
        raise NotFound(f"{paper_id} is not on list {list_id}")
    paper = store.get_paper(paper_id)
    return ListEntry(found, items[0], paper.title if paper is not None else paper_id)


# --- import ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: papers added, ones on the list already, arXiv papers queued for
    fetching, and each reference not used with why (``where`` names its line or entry)."""

    added: int = 0
    already: int = 0
    fetching: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "already": self.already,
            "fetching": self.fetching,
            "problems": [{"where": where, "reason": why} for where, why in self.problems],
        }


def _references(text: str) -> list[tuple[str, str]]:
    """``(where, reference)`` for each reference pasted in ``text``."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for token in _SEPARATORS.split(line.strip()):
            if token:
                found.append((f"line {number}: {token[:100]}", token))
    return found


def bibtex_references(data: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(where, reference)`` of each BibTeX entry naming a paper, and ``(where, reason)``
    of those that do not or could not be parsed."""
    import bibtexparser

    library = bibtexparser.parse_string(data)
    found, problems = [], []
    for block in library.failed_blocks:
        line = getattr(block, "start_line", None)
        where = f"line {line + 1}" if isinstance(line, int) else "an entry"
        error = str(getattr(block, "error", "") or "").strip()
        problems.append((where, "not a well-formed BibTeX entry" + (f": {error}" if error else "")))
    for entry in library.entries:
        where = f"entry {entry.key}"[:120]
        fields = {name.lower(): str(item.value) for name, item in entry.fields_dict.items()}
        reference = _entry_reference(fields)
        if reference is None:
            problems.append((where, "names no paper: no eprint, DOI or arXiv URL"))
        else:
            found.append((where, reference))
    return found, problems


def _entry_reference(fields: dict[str, str]) -> str | None:
    """What a BibTeX entry's fields name a paper by: its arXiv eprint (or an arXiv URL or
    arXiv journal line), else its DOI."""

    def value(name: str) -> str:
        return fields.get(name, "").strip("{} \n")

    prefix = value("archiveprefix").lower()
    eprint = value("eprint")
    if eprint and prefix in ("", "arxiv") and ids.is_arxiv_id(eprint):
        return eprint
    for name in ("url", "journal", "note"):
        text = value(name)
        if not text:
            continue
        for token in _SEPARATORS.split(text):
            parsed = ids.parse_reference(token.removeprefix("arXiv:").rstrip("."))
            if parsed is not None and parsed.kind == "arxiv":
                return parsed.id
            if token.lower().startswith("arxiv:") and ids.is_arxiv_id(token[6:]):
                return token[6:]
    return value("doi") or None


def import_references(
    store: Store, user_id: int, list_id: int, text: str = "", bibtex: str = ""
) -> ImportReport:
    """Add to the user's list the papers pasted in ``text`` and named by the entries of the
    ``bibtex`` file, in the order given, in one transaction (see the module's docstring)."""
    own_list(store, list_id, user_id)
    references = _references(text) if text.strip() else []
    report = ImportReport()
    if bibtex.strip():
        entries, problems = bibtex_references(bibtex)
        references += entries
        report.problems += problems
    if len(references) > MAX_IMPORT:
        raise InvalidInput(f"at most {MAX_IMPORT:,} papers at a time ({len(references):,} given)")
    parsed = [(where, ids.parse_reference(reference)) for where, reference in references]
    stored = {p.id: p for p in store.get_papers([found.id for _, found in parsed if found])}
    wanted: dict[str, str] = {}
    # Reasons in the order of the references (unreadable BibTeX entries come first).
    for where, found in parsed:
        if found is None:
            report.problems.append((where, "not an arXiv id, arXiv or Hugging Face link, or DOI"))
            continue
        paper = stored.get(found.id)
        if paper is None and found.kind == "doi":
            paper = store.find_by_doi(found.id.removeprefix("doi:"))
            if paper is None:
                report.problems.append(
                    (where, f"{found.id} is not in this store (only arXiv papers are fetched)")
                )
                continue
        if paper is not None and not paper.visible:
            report.problems.append((where, f"{paper.id} was withdrawn or hidden"))
            continue
        paper_id = paper.id if paper is not None else found.id
        if paper is None and paper_id not in wanted:
            report.fetching.append(paper_id)
        wanted.setdefault(paper_id, "")
    on_list = {item.paper_id for item in store.library.items(list_id)}
    report.already = len(set(wanted) & on_list)
    report.fetching = [pid for pid in report.fetching if pid not in on_list]
    report.added = store.library.add_items(
        list_id,
        user_id,
        list(wanted.items()),
        fetch=report.fetching,
        fetch_kind=FETCH_JOB,
    )
    return report


def fetch_missing(store: Store, settings: Settings, paper_ids: list[str]) -> dict[str, Any]:
    """The ``library-fetch`` job: fetch imported arXiv papers the store lacks; those arXiv
    does not know are taken off the lists they were imported to. Safe to run twice."""
    missing = [pid for pid in paper_ids if store.get_paper(pid) is None]
    found: list[Paper] = []
    if missing:
        with Fetcher.from_settings(settings, min_interval=settings.arxiv_delay) as fetcher:
            for item in arxiv_api.records(settings.arxiv_api_url, ids=missing, fetcher=fetcher):
                if isinstance(item, Paper):
                    found.append(item)
    if found:
        store.upsert_papers(found)
    unknown = sorted(set(missing) - {p.id for p in found})
    store.library.drop_items(unknown)
    return {"fetched": len(found), "unknown": unknown}
