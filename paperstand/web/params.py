"""The parameters of the web face, each declared once: what a page and its JSON twin accept,
how the OpenAPI schema describes it, and the paper-id path segment.

The schema must say exactly what the code accepts (a schema-driven fuzzer checks it, see
``tests/web/test_openapi.py``): every parameter has its pattern and bounds here. Values
whose shape is checked by pydantic answer 422; days, weeks and months are checked by
``paperstand.dates`` (the one parser the CLI and the sources use too) and answer 400, as do
the one combination a schema cannot express (two periods at once).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.convertors import Convertor, register_url_convertor

from paperstand.dates import DAY_PATTERN, MONTH_PATTERN, WEEK_PATTERN, parse_day
from paperstand.errors import InvalidInput
from paperstand.models import Cursor
from paperstand.search import MAX_RESULTS

# A paper id in a path: an id as stored, any arXiv spelling (old-style ids have a "/"), a
# DOI. Never a word another route owns (/papers/date/..., /papers/new/...,
# /papers/trending, /api/papers/search, /api/papers/submit) nor ending like another route
# (.md, .bib, /similar, /upvote, /comments, /hide, /save, /lists), so every URL has exactly
# one route, whatever order the routers are included in. No spaces or control characters, spelled as
# ranges: "\s" means different things to different regex engines (Python's, pydantic's,
# the fuzzer's), and the schema must mean one thing to all.
PAPER_ID = (
    r"(?!(?:date|week|month|new)(?:/|$)|trending$|search$|submit$|add$)"
    r"[^?#\x00-\x20\x7f-\x9f]{1,300}?(?<!\.md)(?<!\.bib)(?<!/similar)"
    r"(?<!/upvote)(?<!/comments)(?<!/hide)(?<!/save)(?<!/lists)"
)


class _Segment(Convertor[str]):
    """A path parameter that must match ``regex`` for its route to match at all."""

    def __init__(self, regex: str) -> None:
        self.regex = regex

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("paper_id", _Segment(PAPER_ID))
# Every feed answers in both formats; another extension is no route at all (404).
register_url_convertor("feed_format", _Segment("xml|atom"))

PaperId = Annotated[
    str,
    Path(
        description="An arXiv id (any version, old or new style), an arXiv or Hugging Face "
        "paper URL, a DOI, or an id as stored.",
        json_schema_extra={"pattern": f"^{PAPER_ID}$", "minLength": 1, "maxLength": 300},
        examples=["2407.01234", "hep-th/9901001v2", "arXiv:2407.01234"],
    ),
]


def _period(pattern: str, description: str, **extra: Any) -> Any:
    """A day, week or month parameter: documented with its pattern, checked by
    ``paperstand.dates`` (400 naming the parameter, not pydantic's 422)."""
    return Query(description=description, json_schema_extra={"pattern": pattern, **extra})


DAY_HELP = "A day, YYYY-MM-DD."
WEEK_HELP = "An ISO week, YYYY-Www (week 53 too, in the years that have one)."
MONTH_HELP = "A month, YYYY-MM."

DayParam = Annotated[str | None, _period(DAY_PATTERN, DAY_HELP, format="date")]
WeekParam = Annotated[str | None, _period(WEEK_PATTERN, WEEK_HELP)]
MonthParam = Annotated[str | None, _period(MONTH_PATTERN, MONTH_HELP)]

# Path twins of the above, for the pages of one day, week or month.
DayPath = Annotated[str, Path(json_schema_extra={"pattern": DAY_PATTERN, "format": "date"})]
WeekPath = Annotated[str, Path(json_schema_extra={"pattern": WEEK_PATTERN})]
MonthPath = Annotated[str, Path(json_schema_extra={"pattern": MONTH_PATTERN})]

SortParam = Annotated[
    Literal["publishedAt", "trending"] | None,
    Query(description="publishedAt: latest day first; trending: upvotes decayed by age."),
]
Submitter = Annotated[
    str | None,
    Query(
        description="Only papers this user submitted to the daily list.",
        pattern=r"^[^\x00-\x1f\x7f]{1,100}$",
    ),
]
# arXiv categories: cs.LG, hep-th, astro-ph.CO, math.AG, ...
CATEGORY_PATTERN = r"^[A-Za-z][A-Za-z-]{0,19}(?:\.[A-Za-z-]{1,19})?$"
# A keyword: a line of printable text, as keywords are (blank means no facet).
KEYWORD_PATTERN = r"^[^\x00-\x1f\x7f]{1,100}$"
PageNumber = Annotated[int, Query(ge=1, le=1000, description="Page number, from 1.")]
# Printable ASCII, as ids are. At most 5,000 characters: even a refused value of that length
# in 4-byte characters, percent-encoded (60 KB), must reach the app, and uvicorn accepts
# request lines of 65 KB but refuses 120 KB with a bare 400 of its own.
BibtexIds = Annotated[
    str,
    Query(
        description="Paper ids, comma-separated: at most 500 ids and 5,000 characters.",
        pattern=r"^[!-+\--~]+(?:,[!-+\--~]+){0,499}$",
        max_length=5_000,
    ),
]


class SearchFilters(BaseModel):
    """What a search may be narrowed by; the same for the search page and ``/api/search``.
    A day that does not parse is an :class:`~paperstand.errors.InvalidDate` (400)."""

    model_config = ConfigDict(extra="ignore")

    since: str | None = Field(
        None,
        description="Listed on or after this day, YYYY-MM-DD.",
        json_schema_extra={"pattern": DAY_PATTERN, "format": "date"},
    )
    until: str | None = Field(
        None,
        description="Listed on or before this day, YYYY-MM-DD.",
        json_schema_extra={"pattern": DAY_PATTERN, "format": "date"},
    )
    category: str | None = Field(
        None, description="An arXiv category, e.g. cs.LG.", pattern=CATEGORY_PATTERN
    )
    has_code: bool = Field(False, description="Only papers with a known GitHub repository.")
    keyword: str | None = Field(
        None,
        description="Only papers with this keyword: one of the keywords extracted for a "
        "paper (lower case) or given by its source, as a paper page shows them.",
        pattern=KEYWORD_PATTERN,
    )

    @model_validator(mode="after")
    def _days(self) -> SearchFilters:
        # InvalidInput is not a ValueError: pydantic lets it through to the 400 handler.
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                parse_day(value, name)
        return self

    @property
    def empty_range(self) -> bool:
        """True when ``since`` is after ``until``: no day is in the range, so nothing can
        match. Not an error (a schema cannot say that one parameter bounds another)."""
        return bool(self.since and self.until and self.since > self.until)

    def search_options(self) -> dict[str, Any]:
        """The keyword arguments of ``Searcher.search`` these filters stand for."""
        return {
            "since": self.since,
            "until": self.until,
            "category": self.category,
            "has_code": self.has_code,
            "keyword": self.keyword,
        }


class SearchQuery(SearchFilters):
    """``/api/search``: a query is required, results come by limit and offset, down to the
    best ``MAX_RESULTS`` of the ranking (see ``Searcher.search``)."""

    q: str = Field(min_length=1, max_length=250, description="What to search for.")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(
        0,
        ge=0,
        lt=MAX_RESULTS,
        description=f"Results to skip: only the best {MAX_RESULTS:,} can be paged through.",
    )


# The search page's results per page, and so its last page.
SEARCH_PAGE_SIZE = 20
SEARCH_PAGES = MAX_RESULTS // SEARCH_PAGE_SIZE


class SearchPage(SearchFilters):
    """``/search``: the page shows its form without a query; the form sends empty fields
    for the filters left blank, which mean "no filter"."""

    q: str = Field("", max_length=250)
    page: int = Field(
        1,
        ge=1,
        le=SEARCH_PAGES,
        description=f"Page of {SEARCH_PAGE_SIZE} results: only the best {MAX_RESULTS:,} "
        "can be paged through.",
    )

    @field_validator("since", "until", "category", "keyword", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return value or None


# A place in an author's or a category's list: the day of a paper (none for a paper without
# one) and its id as stored (printable ASCII), "2025-03-24_2503.00001". Digits spelled as a
# range: "\d" matches other scripts' digits in some regex engines.
CURSOR_PATTERN = r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?_[!-~]{1,300}$"
# A place in one day's listing, which is in id order: a paper id.
ID_CURSOR = r"^[!-~]{1,300}$"


def _cursor_field(description: str) -> Any:
    return Field(None, description=description, pattern=CURSOR_PATTERN, max_length=311)


class Cursors(BaseModel):
    """Where a page of an author's or a category's papers starts: after ``before`` (the
    older page) or before ``after`` (the newer one), as the page's own links say. Neither:
    the latest papers. Both at once, or a cursor whose day does not exist, is a 400."""

    model_config = ConfigDict(extra="ignore")

    before: str | None = _cursor_field("The papers older than this cursor (a page's 'older').")
    after: str | None = _cursor_field("The papers newer than this cursor (a page's 'newer').")

    @model_validator(mode="after")
    def _one(self) -> Cursors:
        if self.before and self.after:
            raise InvalidInput("give before or after, not both")
        for name in ("before", "after"):
            value = getattr(self, name)
            if value and value[0] != "_":
                parse_day(value[:10], name)
        return self

    @staticmethod
    def _parse(value: str | None) -> Cursor | None:
        if not value:
            return None
        day, _, paper_id = value.partition("_")
        return Cursor(day or None, paper_id)

    def window(self) -> dict[str, Cursor | None]:
        """The keyword arguments of ``Store.author_window`` / ``category_window``."""
        return {"before": self._parse(self.before), "after": self._parse(self.after)}


class NewPage(BaseModel):
    """A page of a day's arXiv listing (newest id first): the papers of ids below
    ``before`` or above ``after``, as the page's own links say; neither, the first page."""

    model_config = ConfigDict(extra="ignore")

    before: str | None = Field(
        None, description="The papers older than this id.", pattern=ID_CURSOR, max_length=300
    )
    after: str | None = Field(
        None, description="The papers newer than this id.", pattern=ID_CURSOR, max_length=300
    )
    page: int | None = Field(
        None, ge=1, le=1000, description="Page number of older links: redirected to a cursor."
    )

    @model_validator(mode="after")
    def _one(self) -> NewPage:
        if self.before and self.after:
            raise InvalidInput("give before or after, not both")
        return self


class BrowsePage(Cursors):
    """An author or category page: cursors, and the page numbers older links carried."""

    page: int | None = Field(
        None, ge=1, le=1000, description="Page number of older links: redirected to a cursor."
    )
