"""The community service: submissions, votes, comments and moderation, for every face.

The web pages, the JSON API and the CLI call these functions with the acting user's id
(the faces have checked who it is and that the account is not banned) and never touch the
store's community tables themselves.

**Submissions** follow Hugging Face's rules, with their numbers in settings: a paper by arXiv
id or URL, at most ``PAPERSTAND_SUBMISSION_MAX_AGE_DAYS`` old on the day it is submitted,
at most ``PAPERSTAND_SUBMISSION_DAILY_QUOTA`` a day per account, and a paper only once (a
second submission is a :class:`Conflict` naming the first). A paper already in the store is
checked and listed at once; one that is not is recorded as *pending* and its metadata is
fetched from the arXiv API by a background job (``submission-fetch`` in jobs.py), so a slow
arXiv never holds up the request. The job checks the age rule on the real date and then
lists the paper, or rejects the submission with the reason.

**The curated daily list** of a day holds the papers submitted here that day and those
Hugging Face featured that day (a paper submitted here counts on its submission day only).
Everything arXiv listed that day is another view, :func:`new_on_arxiv`.

**Upvotes**: local votes (one per account and paper) and Hugging Face's imported upvotes
are stored apart; pages show both and the API's ``upvotes`` is their sum.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from paperstand import ids
from paperstand.dates import parse_day
from paperstand.errors import InvalidInput, NotFound, RuleBroken
from paperstand.models import Paper
from paperstand.ratelimit import Counting
from paperstand.settings import Settings
from paperstand.sources import arxiv_api
from paperstand.sources.http import Fetcher
from paperstand.store import Store
from paperstand.store.community import Comment, CommunityStore, Listed, Standing, Submission

# The background job that fetches a submitted paper's metadata (registered in jobs.py).
FETCH_JOB = "submission-fetch"
# Longest comment accepted, in characters: a comment, not a paper.
MAX_COMMENT = 10_000
# A new-style arXiv id starts with the year and month of its first version (YYMM).
_NEW_STYLE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
# What an admin's paper may carry as its link and its publication day.
_LINK = re.compile(r"https?://\S+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Entry:
    """A paper as a list shows it: the paper, its community numbers, its curated day, and
    the public name of whoever submitted it here (None when Hugging Face featured it)."""

    paper: Paper
    listed: Listed

    @property
    def submitter(self) -> str | None:
        return self.listed.submitter_name

    @property
    def standing(self) -> Standing:
        return self.listed.standing


def today() -> date:
    return datetime.now(UTC).date()


def arxiv_id(reference: str) -> str:
    """The canonical arXiv id named by ``reference`` (an id, with or without version, or an
    arxiv.org / huggingface.co/papers URL); :class:`InvalidInput` for anything else."""
    parsed = ids.parse_reference(reference or "")
    if parsed is None or parsed.kind != "arxiv":
        raise InvalidInput(f"not an arXiv id or URL: {reference[:100]!r}")
    return parsed.id


def paper_id(reference: str) -> str:
    """The canonical id of a paper named by id, URL or DOI (for votes and comments)."""
    parsed = ids.parse_reference(reference or "")
    if parsed is None:
        raise NotFound(f"not a paper id: {reference[:100]!r}")
    return parsed.id


# --- submissions --------------------------------------------------------------------------


def age_rule(published: str | None, on: date, max_age_days: int) -> str | None:
    """Why a paper first published on ``published`` cannot be submitted on ``on``, or
    None when it can (an unknown date passes: the paper's own record decides later)."""
    if not published:
        return None
    first = date.fromisoformat(published[:10])
    age = (on - first).days
    if age > max_age_days:
        return (
            f"the paper is {age} days old (first version {first.isoformat()}); "
            f"only papers at most {max_age_days} days old can be submitted"
        )
    return None


def _month_rule(paper: str, on: date, max_age_days: int) -> str | None:
    """The age rule told from a new-style id alone: a paper whose month ended more than
    the allowed age ago is too old whatever its day (the job would only confirm it)."""
    match = _NEW_STYLE.match(paper)
    if match is None:  # an old-style id: from before 2007
        return f"{paper} is an arXiv paper from before 2007: too old to submit"
    year, month = 2000 + int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InvalidInput(f"not an arXiv id: {paper}")
    month_end = (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return age_rule(month_end.isoformat(), on, max_age_days)


def submit(
    store: Store,
    settings: Settings,
    user_id: int,
    reference: str,
    *,
    on: date | None = None,
) -> Submission:
    """Submit a paper by arXiv id or URL for the curated list of ``on`` (today, UTC).
    :class:`RuleBroken` (age, quota), :class:`Conflict` (submitted or featured before)."""
    paper = arxiv_id(reference)
    day = on or today()
    stored = store.get_paper(paper)
    if stored is not None and stored.title:
        reason = age_rule(stored.published, day, settings.submission_max_age_days)
    else:
        reason = _month_rule(paper, day, settings.submission_max_age_days)
    if reason:
        raise RuleBroken(reason)
    submission = store.community.submit(
        paper, user_id, day.isoformat(), quota=settings.submission_daily_quota
    )
    if submission.status == "pending":
        # The kind is registered in jobs.py, which imports this module (not the reverse).
        store.enqueue_job(FETCH_JOB, {"id": paper}, key=f"submission:{paper}", max_attempts=5)
    return submission


def fetch_submitted(store: Store, settings: Settings, paper: str) -> dict[str, str]:
    """Fetch a pending submission's paper from the arXiv API, then list it or reject the
    submission. Safe to run twice (a settled submission is left alone)."""
    submission = store.community.submission(paper)
    if submission is None or submission.status != "pending":
        return {"id": paper, "status": submission.status if submission else "unknown"}
    with Fetcher.from_settings(settings, min_interval=settings.arxiv_delay) as fetcher:
        found = arxiv_api.fetch_paper(settings.arxiv_api_url, paper, fetcher=fetcher)
    if found is None:
        reason = f"arXiv does not know {paper}"
    else:
        on = date.fromisoformat(submission.day)
        reason = age_rule(found.published, on, settings.submission_max_age_days)
    if reason is None:
        store.upsert_papers([found])
    store.community.settle_submission(paper, reason=reason)
    return {"id": paper, "status": "rejected" if reason else "ready", "reason": reason or ""}


def add_paper(
    store: Store,
    admin_id: int,
    *,
    title: str,
    authors: list[str],
    abstract: str = "",
    doi: str | None = None,
    url: str | None = None,
    published: str | None = None,
    on: date | None = None,
) -> Submission:
    """An admin's paper that is not on arXiv, by DOI (its id ``doi:...``), listed on the
    curated list of ``on`` at once: no age rule, no quota, no job."""
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("a paper needs a title")
    parsed = ids.parse_reference((doi or "").strip())
    if parsed is None or parsed.kind != "doi":
        raise InvalidInput(f"not a DOI: {(doi or '')[:100]!r}")
    if url is not None and not _LINK.fullmatch(url):
        raise InvalidInput(f"the link must be an http(s):// URL, got {url[:100]!r}")
    if published:
        try:
            if not _DAY.fullmatch(published):
                raise ValueError(published)
            date.fromisoformat(published)
        except ValueError as exc:
            raise InvalidInput(f"published must be YYYY-MM-DD, got {published[:20]!r}") from exc
    paper = Paper(
        id=parsed.id,
        title=title,
        authors=[a.strip() for a in authors if a.strip()],
        abstract=abstract.strip(),
        doi=parsed.id.removeprefix("doi:"),
        published=published,
        extra={"url": url} if url else {},
    )
    store.upsert_papers([paper])
    return store.community.submit(paper.id, admin_id, (on or today()).isoformat(), quota=1 << 30)


# --- lists --------------------------------------------------------------------------------


def entries(store: Store, listed: list[Listed]) -> list[Entry]:
    """The listed papers with their records, in the list's order."""
    found = {p.id: p for p in store.get_papers([item.paper_id for item in listed]) if p.visible}
    return [Entry(found[item.paper_id], item) for item in listed if item.paper_id in found]


def curated(
    store: Store,
    first: str,
    last: str,
    *,
    limit: int = 50,
    offset: int = 0,
    user_id: int | None = None,
    submitter: str | None = None,
    recent_first: bool = False,
) -> tuple[list[Entry], int]:
    """One page of the curated lists of ``first``..``last`` and how many papers they hold
    (ranked as :meth:`CommunityStore.curated` says)."""
    part = store.community
    page = part.curated(
        first,
        last,
        limit=limit,
        offset=offset,
        user_id=user_id,
        submitter=submitter,
        recent_first=recent_first,
    )
    return entries(store, page), part.count_curated(first, last, submitter=submitter)


@dataclass(frozen=True, slots=True)
class NewOnArxiv:
    """One page of a day's arXiv listing, and the listing days around it. ``offset`` is
    how many papers of the day come before the page; ``older`` and ``newer`` the cursors
    (ids) of the pages after and before it, None when there is none."""

    day: str
    category: str | None
    entries: list[Entry]
    total: int
    previous: str | None
    following: str | None
    offset: int = 0
    older: str | None = None
    newer: str | None = None


def latest_listing(store: Store) -> str | None:
    return store.community.listing_neighbours("")[0]


def new_on_arxiv(
    store: Store,
    day: str,
    *,
    category: str | None = None,
    limit: int = 50,
    before: str | None = None,
    after: str | None = None,
    user_id: int | None = None,
) -> NewOnArxiv:
    """One page of everything arXiv listed on ``day`` (in ``category``, primary or
    cross-listed, when given), newest id first: the first page, or the one past a cursor
    (``before``: older ids; ``after``: newer ones). Pages are read by cursor, so a page
    costs the same however deep it is and its link keeps showing the same papers."""
    parse_day(day, "day")
    category = (category or "").strip() or None
    part = store.community
    page = part.new_on_arxiv(
        day, category=category, limit=limit, before=before, after=after, user_id=user_id
    )
    _, previous, following = part.listing_neighbours(day)
    total = part.count_new_on_arxiv(day, category=category)
    offset = 0
    if page and (before is not None or after is not None):
        offset = part.count_new_on_arxiv(day, category=category, above=page[0].paper_id)
    return NewOnArxiv(
        day,
        category,
        entries(store, page),
        total,
        previous,
        following,
        offset,
        older=page[-1].paper_id if page and offset + len(page) < total else None,
        newer=page[0].paper_id if page and offset > 0 else None,
    )


def new_on_arxiv_cursor(store: Store, day: str, category: str | None, position: int) -> str | None:
    """The id of the paper at ``position`` (from 0) of a day's listing: where the numbered
    pages there were before cursors start (their links are redirected)."""
    category = (category or "").strip() or None
    found = store.community.new_on_arxiv(day, category=category, limit=1, offset=position)
    return found[0].paper_id if found else None


def paper_standing(
    store: Store,
    reference: str | Paper,
    user_id: int | None = None,
    *,
    with_hidden: bool = False,
) -> Entry:
    """A visible paper (named, or already read) with its numbers; :class:`NotFound` for
    unknown or hidden papers (``with_hidden``: hidden ones too, for admins)."""
    pid = reference.id if isinstance(reference, Paper) else paper_id(reference)
    listed = store.community.standing(pid, user_id, with_hidden=with_hidden)
    if isinstance(reference, Paper):
        paper: Paper | None = reference
    else:
        paper = store.get_paper(pid) if listed else None
    if listed is None or paper is None:
        raise NotFound(f"{pid} is not in this store")
    return Entry(paper, listed)


# --- votes --------------------------------------------------------------------------------


def vote(
    community: CommunityStore,
    user_id: int,
    reference: str,
    *,
    up: bool,
    counting: Counting | None = None,
) -> Standing:
    """Upvote (``up``) or take the upvote back; idempotent both ways. ``counting`` (from
    ``Limiter.counting``) is counted in the vote's own transaction; past the limit,
    :class:`RateLimited` and no vote."""
    hits = counting.hits() if counting is not None else []
    standing = community.vote(user_id, paper_id(reference), up=up, rate_hits=hits, now=time.time())
    if standing is None:
        assert counting is not None  # only a counted window refuses
        counting.refuse()
    return standing


# --- comments -----------------------------------------------------------------------------


def _text(body: str) -> str:
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise InvalidInput("a comment needs some text")
    if len(body) > MAX_COMMENT:
        raise InvalidInput(f"a comment is at most {MAX_COMMENT:,} characters")
    return body


def comment(
    community: CommunityStore,
    user_id: int,
    reference: str,
    body: str,
    *,
    parent_id: int | None = None,
) -> Comment:
    """A new comment (Markdown) on a paper, or a reply to one of its comments."""
    return community.add_comment(paper_id(reference), user_id, _text(body), parent_id)


def edit_comment(community: CommunityStore, user_id: int, comment_id: int, body: str) -> Comment:
    return community.edit_comment(comment_id, user_id, _text(body))


def thread(comments: list[Comment]) -> list[tuple[Comment, list[Comment]]]:
    """Comments as top-level ones, each with its replies, oldest first. A deleted comment
    without replies is left out; with replies it stays, blank, to hold them."""
    replies: dict[int, list[Comment]] = {}
    for item in comments:
        if item.parent_id is not None and not item.deleted:
            replies.setdefault(item.parent_id, []).append(item)
    return [
        (item, replies.get(item.id, []))
        for item in comments
        if item.parent_id is None and (not item.deleted or item.id in replies)
    ]
