"""A digest as an email: ``multipart/alternative`` with a plain-text part and an HTML part
whose CSS is inlined (``css-inline``: most mail clients drop ``<style>``), in one fluid
column up to 640 px wide, so it reads the same on a phone and a desktop.

Every message carries ``List-Unsubscribe`` (the signed one-click URL) and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), so mail clients offer an
unsubscribe button that works with one POST, and the footer links to the preferences page.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formatdate
from typing import Any

import css_inline
from jinja2 import Environment, PackageLoader, select_autoescape

from paperstand.digest.content import Digest
from paperstand.models import Paper
from paperstand.settings import Settings
from paperstand.web.render import paper_url

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
    """Makes digest messages; one per run. Each paper's HTML is rendered and its CSS
    inlined once, shared by every digest that shows it; a message inlines only its small
    frame (headings, footer) and splices the papers in. With thousands of digests of mostly
    the same papers, that is most of the work saved."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        env = Environment(
            loader=PackageLoader("paperstand.mail", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._frame = env.get_template("digest.html")
        self._paper = env.get_template("_digest_paper.html")
        self._text = env.get_template("digest.txt")
        self._paper_text = env.get_template("_digest_paper.txt")
        self._css = env.loader.get_source(env, "digest.css")[0]
        self._inliner = css_inline.CSSInliner(keep_style_tags=False)
        self._items: dict[str, dict[str, Any]] = {}
        self._blocks: dict[str, str] = {}
        self._text_blocks: dict[str, str] = {}

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

    def _block(self, paper: Paper) -> str:
        block = self._blocks.get(paper.id)
        if block is None:
            html = self._paper.render(item=self._item(paper))
            block = self._blocks[paper.id] = css_inline.inline_fragment(html, self._css)
        return block

    def subject(self, digest: Digest) -> str:
        papers = "paper" if digest.count == 1 else "papers"
        return f"paperstand digest, {digest.period.title}: {digest.count} {papers}"

    def _context(self, email: str, digest: Digest, links: Links) -> dict[str, Any]:
        return {
            "subject": self.subject(digest),
            "period_title": digest.period.title,
            "count": digest.count,
            "css": self._css,
            "email": email,
            "base_url": self.base_url,
            "manage": links.manage,
            "unsubscribe": links.unsubscribe,
        }

    def html(self, email: str, digest: Digest, links: Links) -> str:
        """The HTML part, CSS inlined (also what ``/digest/preview`` shows)."""
        frame = self._frame.render(sections=digest.sections, **self._context(email, digest, links))
        html = self._inliner.inline(frame)
        for number, section in enumerate(digest.sections):
            papers = "".join(self._block(paper) for paper in section.papers)
            html = html.replace(f"<!--papers:{number}-->", papers, 1)
        return html

    def text(self, email: str, digest: Digest, links: Links) -> str:
        text = self._text.render(sections=digest.sections, **self._context(email, digest, links))
        for number, section in enumerate(digest.sections):
            papers = "".join(self._text_block(paper) for paper in section.papers)
            text = text.replace(f"<!--papers:{number}-->\n", papers, 1)
        return text

    def _text_block(self, paper: Paper) -> str:
        block = self._text_blocks.get(paper.id)
        if block is None:
            block = self._text_blocks[paper.id] = self._paper_text.render(item=self._item(paper))
        return block

    def message(self, email: str, digest: Digest, links: Links, message_id: str) -> bytes:
        """The whole message as the bytes handed to the SMTP server.

        Written out here rather than through ``email.message``: its generator re-reads
        every line and folds every header in Python, which cost more CPU than composing
        the digest itself. The tests read these bytes back with the ``email`` package."""
        boundary = f"=_digest_{secrets.token_hex(12)}"
        headers = [
            ("From", self.settings.mail_from),
            ("To", email),
            ("Subject", self.subject(digest)),
            ("Date", formatdate(localtime=False)),
            ("Message-ID", message_id),
            # One line, however long: a folded URL is broken for some mail clients.
            ("List-Unsubscribe", f"<{links.unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ]
        head = "".join(f"{name}: {_header(value)}\r\n" for name, value in headers)
        parts = [
            text_part("plain", self.text(email, digest, links)),
            text_part("html", self.html(email, digest, links)),
        ]
        body = "".join(f"\r\n--{boundary}\r\n{part}" for part in parts)
        return (head + body + f"\r\n--{boundary}--\r\n").encode()


def _header(value: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words."""
    return value if value.isascii() else Header(value, "utf-8").encode()


# SMTP's limit on a line, in octets, without its CRLF (RFC 5321 4.5.3.1.6).
MAX_LINE = 998


def text_part(subtype: str, text: str) -> str:
    """A UTF-8 text part sent as 8-bit text, its long lines broken at spaces.

    Servers read a message line by line: quoted-printable's 76-character lines made a
    digest about 1,000 lines, and the SMTP server spent more CPU on them than the sender
    spent composing (benchmarks/digest_send.py). Lines up to 998 octets cut that about
    tenfold. In HTML and in the plain text a line break where a space was reads the same.
    A server without 8BITMIME gets the message re-encoded (``Mailer.send_bytes``). A part
    with a word too long for one line falls back to quoted-printable."""
    lines = _folded(text)
    if lines is None:
        encoded = binascii.b2a_qp(text.encode(), istext=True).decode("ascii")
        return (
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded.replace("\n", "\r\n")
        )
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + "\r\n".join(lines)
    )


def _folded(text: str) -> list[str] | None:
    """The text's lines, each at most :data:`MAX_LINE` octets, broken at spaces; None when
    a single word is longer than that."""
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if len(line) * 4 <= MAX_LINE or len(line.encode()) <= MAX_LINE:
            lines.append(line)
            continue
        current: list[str] = []
        size = 0
        for word in line.split(" "):
            width = len(word.encode())
            if width > MAX_LINE:
                return None
            if current and size + 1 + width > MAX_LINE:
                lines.append(" ".join(current))
                current, size = [], 0
            size += width + (1 if current else 0)
            current.append(word)
        lines.append(" ".join(current))
    return lines
