"""Jinja2 filters and globals the templates share: links, dates, snippets, highlighting,
and the paper card every list shows.

Everything from papers or users is escaped here or by Jinja's autoescaping; the ``Markup``
produced is escaped text wrapped in ``<mark>``, and the cards, whose every value is escaped
where it is put in place.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from html import escape as escape_text
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from paperstand.dates import week_label
from paperstand.models import Paper, TopicCluster

# Inline and display math as arXiv abstracts write it; highlighting must not split it.
_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$]+\$|\\\(.+?\\\)|\\\[.+?\\\])", re.DOTALL)
_TERM = re.compile(r"[\w-]{2,}", re.UNICODE)
# Text that ``quote`` leaves as it is (with ``safe=""``; spaces aside, which become %20):
# most ids, names and categories. Checking is several times cheaper than quoting.
_PLAIN = re.compile(r"[A-Za-z0-9_.~ -]*").fullmatch
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.~/:-]*").fullmatch
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def urlquote(value: Any) -> str:
    """``value`` as one URL component: everything but letters, digits and ``_.-~``
    percent-encoded."""
    text = str(value)
    if _PLAIN(text):
        return text.replace(" ", "%20")
    return quote(text, safe="")


def paper_url(paper_or_id: Paper | str) -> str:
    paper_id = paper_or_id if isinstance(paper_or_id, str) else paper_or_id.id
    return "/papers/" + (paper_id if _PLAIN_PATH(paper_id) else quote(paper_id, safe="/:"))


def author_url(name: str) -> str:
    return "/authors/" + urlquote(name)


def category_url(category: str) -> str:
    return "/categories/" + urlquote(category)


def query_terms(query: str) -> list[str]:
    return sorted({t.lower() for t in _TERM.findall(query or "")}, key=len, reverse=True)


def highlight(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with words starting with a query term wrapped in ``<mark>``;
    math segments are left whole so KaTeX can still render them."""
    if not terms:
        return escape(text)
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(t) for t in terms) + r")", re.IGNORECASE | re.UNICODE
    )
    out = []
    for i, part in enumerate(_MATH.split(text)):
        if i % 2:  # a math segment
            out.append(str(escape(part)))
            continue
        pos = 0
        for match in pattern.finditer(part):
            out.append(str(escape(part[pos : match.start()])))
            out.append(f"<mark>{escape(match.group(0))}</mark>")
            pos = match.end()
        out.append(str(escape(part[pos:])))
    return Markup("".join(out))


def snippet(text: str, length: int = 320) -> str:
    """The start of ``text`` cut at a word boundary, not inside a ``$...$`` span."""
    text = text or ""
    # Spaces collapsed in a head of the text is a prefix of the whole text so collapsed:
    # when it is long enough, the rest of a long abstract need not be split.
    head = " ".join(text[: 2 * length].split())
    text = head if len(head) > length else " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text.rfind(" ", 0, length)
    cut = cut if cut > 0 else length
    head = text[:cut]
    if head.count("$") % 2:  # an open math span: end before it
        head = head[: head.rfind("$")].rstrip()
    return head + " …"


def nice_day(value: str | None) -> str:
    """``2025-03-18`` as ``Tue 18 Mar 2025``; other strings unchanged."""
    if not value:
        return ""
    return _nice_day(value)


@lru_cache(maxsize=4096)
def _nice_day(value: str) -> str:
    # Cached: a page's cards share a few days, and strftime is the dearest part of a card.
    try:
        return date.fromisoformat(value[:10]).strftime("%a %-d %b %Y")
    except ValueError:
        return value


def week_of(day: str) -> str:
    """The ISO week label (``YYYY-Www``) of a day."""
    return week_label(date.fromisoformat(day))


# --- the paper card ------------------------------------------------------------------------
#
# Every list of papers (daily lists, authors, categories, search, topics, a paper's similar
# papers) shows each paper as this card, so it is written once, here, in Python: as a Jinja
# macro it cost 165-250 microseconds of CPU a card (attribute lookups, filters, the loop
# objects, an escape and a URL quoting per value), most of a 50-card page's 13 ms of
# template; put together with f-strings it costs 27-55 (docs/benchmarks.md, whole arXiv).
# Values from papers and users are escaped with ``html.escape`` as they are put in place
# (half the cost of markupsafe's ``escape``, which makes a ``Markup`` each call); URLs are
# percent-encoded, which leaves nothing to escape. Templates call it as the ``card`` macro
# of ``_paper.html`` (or ``paper_card`` directly, in long loops).


def _plural(count: int | None, word: str) -> str:
    return word if count == 1 else word + "s"


# The links of a card's authors, categories and day, kept: the same ones come back card
# after card (a category page's categories and days, an author's co-authors).
@lru_cache(maxsize=1 << 14)
def _author_link(name: str) -> str:
    return f'<a href="{author_url(name)}">{escape_text(name)}</a>'


@lru_cache(maxsize=1 << 12)
def _category_tag(category: str) -> str:
    return f'<a class="tag" href="{category_url(category)}">{escape_text(category)}</a>'


@lru_cache(maxsize=1 << 12)
def _day_time(day: str) -> str:
    return f'<time datetime="{escape_text(day)}">{escape_text(nice_day(day))}</time>'


def authors_line(authors: list[str], limit: int = 8) -> str:
    """The first ``limit`` authors, each linked to their page, and how many more there are."""
    links = ", ".join(map(_author_link, authors[:limit]))
    more = f" and {len(authors) - limit} more" if len(authors) > limit else ""
    return f'<p class="authors">\n{links}{more}\n</p>'


def _votes(paper: Paper, entry: Any) -> str:
    """The card's upvote count: a list entry's (here and Hugging Face's apart), else the
    paper's own (Hugging Face's, or a dash when unknown)."""
    if entry is None:
        count = paper.upvotes
        shown = "–" if count is None else count
        return (
            f'<div class="votes" title="upvotes">\n<span class="count">{shown}</span>\n'
            f'<span class="label">{_plural(count, "upvote")}</span>\n</div>'
        )
    standing = entry.standing
    local, hf, total = standing.local_votes, standing.hf_votes, standing.upvotes
    return (
        f'<div class="votes" title="{local} {_plural(local, "upvote")} here, {hf} on Hugging '
        f'Face">\n<span class="count">{total}</span>\n<span class="label">'
        f'{_plural(total, "upvote")}</span>\n<span class="split">{local} here · {hf} HF</span>'
        "\n</div>"
    )


def _meta(
    paper: Paper, url: str, topic: TopicCluster | None, score: float | None, entry: Any
) -> str:
    """The card's line of facts: id, categories, day, topic, code, score, submitter and
    comments."""
    parts = [f'<span class="pid">{escape_text(paper.id)}</span>']
    parts += map(_category_tag, paper.categories[:4])
    day = paper.day
    if day:
        parts.append(_day_time(day))
    if topic:
        label = escape_text(topic.label)
        parts.append(
            f'<a class="topic-badge" href="/topics/{topic.id}" title="Topic: {label}">{label}</a>'
        )
    if paper.github_repo:
        stars = f" ★ {paper.github_stars}" if paper.github_stars else ""
        parts.append(f'<span class="code">code{stars}</span>')
    if score is not None:
        parts.append(f'<span class="score">score {score:.3f}</span>')
    if entry is not None:
        submitter = entry.submitter or paper.submitted_by
        if submitter:
            parts.append(f'<span class="submitter">submitted by {escape_text(submitter)}</span>')
        comments = entry.standing.comments
        parts.append(
            f'<a class="comments" href="{url}#comments">{comments} '
            f"{_plural(comments, 'comment')}</a>"
        )
    return '<p class="meta">\n' + "\n".join(parts) + "\n</p>"


def _save_button(context: Context, paper: Paper, url: str) -> str:
    """One click saves (or unsaves) the paper: a form that works without JavaScript, which
    app.js turns into an in-place toggle. Visitors get a link to log in."""
    title = escape_text(paper.title)
    if not context.get("viewer"):
        # urlquote(url), spelled out for the usual id that quoting leaves as it is.
        back = "%2Fpapers%2F" + paper.id if _UNRESERVED(paper.id) else urlquote(url)
        return (
            f'<a class="save" href="/login?next={back}" '
            f'aria-label="Log in to save: {title}">Save</a>'
        )
    saved = paper.id in (context.get("saved_ids") or ())
    label = "Saved" if saved else "Save"
    return (
        f'<form class="save" method="post" action="{url}/save">{context["csrf_field"]()}\n'
        f'<input type="hidden" name="saved" value="{0 if saved else 1}">\n'
        f'<button type="submit" aria-pressed="{"true" if saved else "false"}" '
        f'aria-label="{label}: {title}">{label}</button>\n</form>'
    )


@pass_context
def save_button(context: Context, paper: Paper) -> Markup:
    """The card's Save button alone (a paper's page shows it among the paper's facts)."""
    return Markup(_save_button(context, paper, paper_url(paper)))


@pass_context
def paper_card(
    context: Context,
    paper: Paper,
    rank: int | None = None,
    terms: list[str] | None = None,
    score: float | None = None,
    entry: Any = None,
    why: str | None = None,
    topic: TopicCluster | None = None,
) -> Markup:
    """A paper as every list shows it: upvotes, its ``rank`` on the list, title and
    abstract (words of the query ``terms`` marked), authors and facts, and a Save button.
    ``entry`` (a list's ``community.Entry``) adds local votes, submitter and comments;
    ``score`` a search score; ``why`` (text or markup) why a recommendation is there;
    ``topic`` the paper's topic badge."""
    url = paper_url(paper)
    anchor = "t-" + urlquote(paper.id)
    terms = terms or []
    number = f'<span class="rank">{rank}.</span> ' if rank else ""
    reason = (
        f'<p class="why"><span class="why-label">Why is this here:</span> {escape(why)}</p>\n'
        if why
        else ""
    )
    summary = snippet(paper.ai_summary or paper.abstract)
    if terms:
        title, summary = highlight(paper.title, terms), highlight(summary, terms)
    else:
        title, summary = escape_text(paper.title), escape_text(summary)
    return Markup(
        f'<article class="card" aria-labelledby="{anchor}">\n{_votes(paper, entry)}\n'
        f'<div class="body">\n<h2 class="title math" id="{anchor}">\n{number}'
        f'<a href="{url}">{title}</a>\n</h2>\n'
        f"{authors_line(paper.authors)}\n{_meta(paper, url, topic, score, entry)}\n{reason}"
        f'<p class="abstract math">{summary}</p>\n</div>\n'
        f"{_save_button(context, paper, url)}\n</article>"
    )


def install(env: Environment) -> None:
    env.filters.update(
        highlight=highlight,
        snippet=snippet,
        nice_day=nice_day,
        paper_url=paper_url,
        author_url=author_url,
        category_url=category_url,
        urlquote=urlquote,
    )
    env.globals.update(
        query_terms=query_terms,
        week_of=week_of,
        paper_card=paper_card,
        paper_save_button=save_button,
    )
