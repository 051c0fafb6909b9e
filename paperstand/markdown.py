"""Markdown that users write (comments) turned into HTML that is safe to show to others.

Two layers, so that a gap in one is caught by the other:

1. ``markdown-it-py`` (CommonMark, plus tables and strikethrough) with raw HTML switched off:
   ``<script>`` typed in a comment comes out as text, and its link validator drops
   ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` targets. Images are switched off
   too: an image from another host tracks whoever reads the page (and the CSP would block it
   anyway), so ``![alt](url)`` stays text.
2. ``nh3`` (the Rust sanitiser ammonia) keeps only the tags Markdown makes, only ``href`` and
   ``title`` on links and only ``http``, ``https`` and ``mailto`` URLs, and marks every link
   ``rel="nofollow noopener noreferrer ugc"``: what readers write earns no search ranking.

The pages' Content-Security-Policy (no inline scripts) is the third layer.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer ugc"


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    return md


def render_markdown(text: str) -> Markup:
    """``text`` (Markdown a user wrote) as sanitised HTML, ready to put in a template."""
    html = _parser().render(text.replace("\x00", "\ufffd"))
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        # Table cells carry text-align only; anything else in a style is dropped.
        filter_style_properties={"text-align"},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return Markup(clean)
