"""A digest as an email: ``multipart/alternative`` with a plain-text part and an HTML part
whose CSS is inlined (``css-inline``: most mail clients drop ``<style>``), in one fluid
column up to 640 px wide, so it reads the same on a phone and a desktop.

Every message carries ``List-Unsubscribe`` (the signed one-click URL) and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), so mail clients offer an
unsubscribe button that works with one POST, and the footer links to the preferences page.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import css_inline
from jinja2 import Environment, PackageLoader, select_autoescape

from paperstand.digest.content import Digest
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.web.render import paper_url

HEADERS_UNFOLDED = email.policy.SMTP.clone(max_line_length=998)
EXCERPT = 240  # characters: about two lines of the column on a desktop
AUTHORS = 6


@dataclass(frozen=True)
class Links:
    """The subscriber's signed links."""

    manage: str
    unsubscribe: str


def excerpt(paper: Paper) -> str:
    """The AI summary when there is one, else the abstract cut at a word near two lines."""
    text = " ".join((paper.ai_summary or paper.abstract or "").split())
    if len(text) <= EXCERPT:
        return text
    return text[:EXCERPT].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def code_url(repo: str | None) -> str | None:
    if not repo:
        return None
    return repo if repo.startswith(("https://", "http://")) else f"https://github.com/{repo}"


class DigestComposer:
    """Makes digest messages; one per run, since each paper's entry is prepared once and
    shared by every digest that shows it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        env = Environment(
            loader=PackageLoader("paperstand.mail", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._html = env.get_template("digest.html")
        self._text = env.get_template("digest.txt")
        self._inliner = css_inline.CSSInliner(keep_style_tags=False)
        self._items: dict[str, dict[str, Any]] = {}

    def _item(self, paper: Paper) -> dict[str, Any]:
        item = self._items.get(paper.id)
        if item is None:
            authors = ", ".join(paper.authors[:AUTHORS])
            if len(paper.authors) > AUTHORS:
                authors += f" and {len(paper.authors) - AUTHORS} more"
            item = self._items[paper.id] = {
                "title": " ".join(paper.title.split()),
                "authors": authors,
                "excerpt": excerpt(paper),
                "upvotes": paper.upvotes,
                "page": self.base_url + paper_url(paper),
                "arxiv": paper.abs_url,
                "pdf": paper.pdf_url,
                "code": code_url(paper.github_repo),
            }
        return item

    def subject(self, digest: Digest) -> str:
        papers = "paper" if digest.count == 1 else "papers"
        return f"paperstand digest, {digest.period.title}: {digest.count} {papers}"

    def _context(self, email: str, digest: Digest, links: Links) -> dict[str, Any]:
        return {
            "subject": self.subject(digest),
            "period_title": digest.period.title,
            "count": digest.count,
            "sections": [
                {"title": s.title, "papers": [self._item(p) for p in s.papers]}
                for s in digest.sections
            ],
            "email": email,
            "base_url": self.base_url,
            "manage": links.manage,
            "unsubscribe": links.unsubscribe,
        }

    def html(self, email: str, digest: Digest, links: Links) -> str:
        """The HTML part, CSS inlined (also what ``/digest/preview`` shows)."""
        return self._inliner.inline(self._html.render(self._context(email, digest, links)))

    def text(self, email: str, digest: Digest, links: Links) -> str:
        return self._text.render(self._context(email, digest, links))

    def message(self, email: str, digest: Digest, links: Links, message_id: str) -> EmailMessage:
        # Header lines up to RFC 5322's 998 characters: folding would encode the long
        # List-Unsubscribe URL as encoded words, which no mail client reads as a URL.
        message = EmailMessage(policy=HEADERS_UNFOLDED)
        message["From"] = self.settings.mail_from
        message["To"] = email
        message["Subject"] = self.subject(digest)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id
        message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(self.text(email, digest, links), cte="quoted-printable")
        message.add_alternative(
            self.html(email, digest, links), subtype="html", cte="quoted-printable"
        )
        return message
