"""Jinja2 filters and globals the templates share: links, dates, snippets, highlighting.

Everything from papers or users is escaped here or by Jinja's autoescaping; the only
``Markup`` produced is escaped text wrapped in ``<mark>``.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from jinja2 import Environment
from markupsafe import Markup, escape

from paperstand.dates import week_label
from paperstand.models import Paper

# Inline and display math as arXiv abstracts write it; highlighting must not split it.
_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$]+\$|\\\(.+?\\\)|\\\[.+?\\\])", re.DOTALL)
_TERM = re.compile(r"[\w-]{2,}", re.UNICODE)


def paper_url(paper_or_id: Paper | str) -> str:
    paper_id = paper_or_id if isinstance(paper_or_id, str) else paper_or_id.id
    return "/papers/" + quote(paper_id, safe="/:")


def author_url(name: str) -> str:
    return "/authors/" + quote(name, safe="")


def category_url(category: str) -> str:
    return "/categories/" + quote(category, safe="")


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
    text = " ".join((text or "").split())
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
    try:
        return date.fromisoformat(value[:10]).strftime("%a %-d %b %Y")
    except ValueError:
        return value


def week_of(day: str) -> str:
    """The ISO week label (``YYYY-Www``) of a day."""
    return week_label(date.fromisoformat(day))


def install(env: Environment) -> None:
    env.filters.update(
        highlight=highlight,
        snippet=snippet,
        nice_day=nice_day,
        paper_url=paper_url,
        author_url=author_url,
        category_url=category_url,
        urlquote=lambda s: quote(str(s), safe=""),
    )
    env.globals.update(query_terms=query_terms, week_of=week_of)
