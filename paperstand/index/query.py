"""What a user typed into the search box, taken apart into safe pieces.

Query text comes from anyone (web form, CLI, API), so it is never handed to a query
language as it is: it is reduced to plain word tokens, "quoted phrases" and the two
operators paperstand supports, ``author:NAME`` (``author:"Yann LeCun"``) and
``cat:CATEGORY``. Whatever is left (quotes, brackets, ``AND (``, ``*``, ``-``, NUL bytes)
is dropped, so no input can break the full-text engine's syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paperstand.dates import parse_day

# Longer text than this is cut: a pasted abstract still finds its paper, a 10,000-character
# string does not cost 10,000 characters of query terms.
MAX_QUERY_CHARS = 1000
MAX_TERMS = 64

_OPERATOR_RE = re.compile(r'(?i)\b(author|cat):(?:"([^"]*)"?|(\S+))')
_PHRASE_RE = re.compile(r'"([^"]*)"')
_WORD_RE = re.compile(r"\w+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Filters:
    """Restrictions on which papers a search returns. Days are ``YYYY-MM-DD``, inclusive,
    compared with :attr:`Paper.listing_day`."""

    since: str | None = None
    until: str | None = None
    category: str | None = None
    has_code: bool = False
    # Only these papers (a keyword facet's, looked up in the store by the search service).
    among: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_day(value, name).isoformat())
        if self.category is not None:
            object.__setattr__(self, "category", self.category.strip() or None)

    @property
    def active(self) -> bool:
        return bool(
            self.since or self.until or self.category or self.has_code or self.among is not None
        )


@dataclass
class ParsedQuery:
    words: list[str] = field(default_factory=list)  # lower-cased word tokens
    phrases: list[list[str]] = field(default_factory=list)  # each a list of word tokens
    authors: list[str] = field(default_factory=list)  # author:NAME values, as typed
    categories: list[str] = field(default_factory=list)  # cat:NAME values

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases or self.authors or self.categories)

    @property
    def text(self) -> str:
        """The words and phrases as plain text, for the embedding model."""
        parts = [" ".join(p) for p in self.phrases] + self.words
        return " ".join(parts)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text)]


def parse_query(text: str) -> ParsedQuery:
    """Split user text into words, phrases and operators. Never raises."""
    text = _CONTROL_RE.sub(" ", str(text)[:MAX_QUERY_CHARS])
    parsed = ParsedQuery()

    def operator(match: re.Match[str]) -> str:
        value = (match.group(2) if match.group(2) is not None else match.group(3)).strip()
        if value:
            if match.group(1).lower() == "author":
                parsed.authors.append(value)
            else:
                parsed.categories.append(value)
        return " "

    text = _OPERATOR_RE.sub(operator, text)

    def phrase(match: re.Match[str]) -> str:
        tokens = words(match.group(1))
        if len(tokens) > 1:
            parsed.phrases.append(tokens)
        else:
            parsed.words.extend(tokens)
        return " "

    text = _PHRASE_RE.sub(phrase, text)
    parsed.words.extend(words(text))
    parsed.words = parsed.words[:MAX_TERMS]
    parsed.phrases = [p[:MAX_TERMS] for p in parsed.phrases[:8]]
    return parsed
