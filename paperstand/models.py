"""The paper record every layer passes around.

A :class:`Paper` is plain data. Sources build them, the store saves and returns them, the
faces render them. Fields a source does not know stay ``None`` (or empty) and never erase
what another source already told us: see :meth:`Paper.merged_with`.

Dates are ISO 8601 strings: ``listed`` and ``submitted_on`` are days (``YYYY-MM-DD``);
``published`` and ``updated`` are days or UTC timestamps (``YYYY-MM-DDTHH:MM:SSZ``),
as precise as the source knows them. Strings sort and compare correctly in both SQLite and
PostgreSQL and survive JSON unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from paperstand import ids

# Fields that describe the work itself. A record for an older version of a paper must not
# overwrite them; community fields (upvotes, GitHub stars, ...) come from elsewhere and are
# merged whenever present.
BIBLIOGRAPHIC = (
    "title",
    "authors",
    "abstract",
    "categories",
    "comment",
    "journal_ref",
    "doi",
    "license",
    "published",
    "updated",
)


@dataclass(slots=True)
class Paper:
    id: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    categories: list[str] = field(default_factory=list)  # primary first
    version: int | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    published: str | None = None
    updated: str | None = None
    listed: str | None = None
    # Community fields, as Hugging Face daily papers carries them.
    upvotes: int | None = None
    submitted_by: str | None = None
    submitted_on: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] = field(default_factory=list)
    # Source-specific extras kept verbatim so faces can echo them (e.g. Hugging Face's author
    # objects, thumbnail, organization). Merged key by key.
    extra: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    # Hidden by an admin (community moderation): read along by the store, never written
    # with the paper, so no source can set or clear it.
    hidden: bool = False

    @property
    def visible(self) -> bool:
        """Whether readers may see the paper: neither withdrawn nor hidden."""
        return not (self.deleted or self.hidden)

    @property
    def day(self) -> str | None:
        """The paper's day on the daily lists, and wherever the site shows "its day": the
        Hugging Face daily-list day when it was featured there (the day the community saw
        it), else its arXiv listing day. The store's day-range SQL is the same rule,
        ``coalesce(submitted_on, listed)``, so that an index serves it."""
        return self.submitted_on or self.listed

    @property
    def listing_day(self) -> str | None:
        """The day search's ``since``/``until`` filters compare: the arXiv listing day,
        else the daily-list day, else the publication day. A search for "papers of March"
        means when they appeared on arXiv, whatever day Hugging Face featured them."""
        day = self.listed or self.submitted_on or self.published
        return day[:10] if day else None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    @property
    def abs_url(self) -> str | None:
        return ids.abs_url(self.id)

    @property
    def pdf_url(self) -> str | None:
        return ids.pdf_url(self.id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Paper:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def merged_with(self, incoming: Paper) -> Paper:
        """This stored paper updated by ``incoming``, a newer record of the same paper.

        Empty incoming values never erase stored ones. Bibliographic fields from a record of
        an *older* version than the stored one are ignored, so replaying an old harvest
        cannot roll a paper back.
        """
        older = (
            incoming.version is not None
            and self.version is not None
            and incoming.version < self.version
        )
        changes: dict[str, Any] = {}
        for f in fields(self):
            name = f.name
            if name in ("id", "extra", "hidden"):
                continue
            if older and (name in BIBLIOGRAPHIC or name == "version"):
                continue
            value = getattr(incoming, name)
            if value is None or value == [] or value == "":
                continue
            if name == "deleted" and not value:
                continue
            changes[name] = value
        # A later record of a paper that was marked deleted brings it back.
        if "deleted" not in changes and incoming.title and self.deleted and not older:
            changes["deleted"] = False
        if incoming.extra:
            changes["extra"] = {**self.extra, **incoming.extra}
        return replace(self, **changes) if changes else self


@dataclass(slots=True)
class TopicPoint:
    """A paper's place on the topic map: its cluster and coordinates in the unit square.
    ``day`` and ``category`` (the paper's day and primary category) are filled in when
    points are read, for the map's layers and for trends; writing ignores them."""

    paper_id: str
    cluster: int
    x: float
    y: float
    day: str | None = None
    category: str | None = None


@dataclass(slots=True)
class TopicCluster:
    """A topic: its label (top phrases joined), those phrases, where its label sits on the
    map, and its unit centroid in the embedding space (new papers join the nearest).
    ``size`` is counted when clusters are read."""

    id: int
    label: str
    keywords: list[str]
    x: float
    y: float
    centroid: Any = None  # float32 numpy vector; Any keeps numpy out of this module
    size: int = 0


@dataclass(frozen=True, slots=True)
class User:
    """An account. ``name`` is what others see (comments, "submitted by"); the email is
    private to its owner and the admins. Times are ISO 8601 UTC strings."""

    id: int
    email: str
    name: str
    is_admin: bool
    banned: bool
    created: str


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A personal API token as its owner sees it listed: never the token itself, which is
    shown once when made and stored only as a digest."""

    id: int
    name: str
    created: str
    last_used: str | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """A place in a list ordered by day, then arrival (the store's pk), latest first: an
    author's or a category's papers. A page is the papers strictly older (or newer) than a
    cursor, so a link to it shows the same papers however many arrive above them, and
    reading it costs one index range whatever its depth. ``day`` is None for a paper
    without one (they come last). The cursor names its paper by id, which the store reads
    the pk of: a URL says which paper a page starts after, never an internal number, and
    links written when ties were ordered by id still work."""

    day: str | None
    paper_id: str

    def text(self) -> str:
        """The cursor as a URL carries it: ``YYYY-MM-DD_id`` (``_id`` without a day)."""
        return f"{self.day or ''}_{self.paper_id}"

    @classmethod
    def of(cls, paper: Paper) -> Cursor:
        return cls(paper.day, paper.id)


@dataclass(slots=True)
class Window:
    """One page of a list in (day, arrival) order, latest first, with the cursors of the pages
    beside it: ``older`` (after its last paper) and ``newer`` (before its first), None when
    there is no such page."""

    papers: list[Paper]
    older: Cursor | None = None
    newer: Cursor | None = None
