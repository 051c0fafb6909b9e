"""BibTeX entries for papers, in the form arXiv's own "Export BibTeX citation" uses
(``@misc`` with ``eprint``/``archivePrefix``/``primaryClass``), which every reference
manager understands."""

from __future__ import annotations

import re
import unicodedata

from paperstand import ids
from paperstand.models import Paper

_WORD = re.compile(r"[A-Za-z0-9]+")
_NEW_STYLE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_STOPWORDS = {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "towards"}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def year_of(paper: Paper) -> str | None:
    for value in (paper.published, paper.listed, paper.submitted_on):
        if value:
            return value[:4]
    match = _NEW_STYLE.match(paper.id)
    return f"20{match.group(1)}" if match else None


def cite_key(paper: Paper) -> str:
    """``lastname2025firstword``, ASCII only, like Google Scholar's keys."""
    surname = ""
    if paper.authors:
        parts = _WORD.findall(_ascii(paper.authors[0]))
        surname = parts[-1].lower() if parts else ""
    words = [w.lower() for w in _WORD.findall(_ascii(paper.title))]
    first = next((w for w in words if w not in _STOPWORDS), words[0] if words else "")
    key = f"{surname}{year_of(paper) or ''}{first}"
    return key or re.sub(r"[^A-Za-z0-9]", "", paper.id) or "paper"


def _value(text: str) -> str:
    """A field value safe inside braces: whitespace folded, braces balanced."""
    text = " ".join(text.split())
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "").replace("}", "")
    return text


def entry(paper: Paper) -> str:
    fields: list[tuple[str, str | None]] = [
        # Double braces keep the title's capitalisation as written.
        ("title", "{" + _value(paper.title) + "}"),
        ("author", " and ".join(_value(a) for a in paper.authors) or None),
        ("year", year_of(paper)),
    ]
    if ids.is_arxiv_id(paper.id):
        fields += [
            ("eprint", paper.id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", paper.primary_category),
        ]
    fields += [
        ("doi", paper.doi or (paper.id[4:] if paper.id.startswith("doi:") else None)),
        ("journal", _value(paper.journal_ref) if paper.journal_ref else None),
        ("url", paper.abs_url),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{cite_key(paper)},\n{body}\n}}\n"


def entries(papers: list[Paper]) -> str:
    """Several entries; repeated keys get a, b, c... suffixes so the file stays valid."""
    seen: dict[str, int] = {}
    out = []
    for paper in papers:
        text = entry(paper)
        key = cite_key(paper)
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            text = text.replace(f"{{{key},", f"{{{key}{chr(ord('a') + count % 26)},", 1)
        out.append(text)
    return "\n".join(out)
