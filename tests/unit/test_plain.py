"""Text from a visitor shown as text: explorer.words.plain escapes what Streamlit's Markdown acts on."""

from __future__ import annotations

import re

import pytest

from explorer.words.plain import JOINER, cut, plain

HOSTILE = [
    "[Claim your grade](https://evil.example)",
    "![x](https://evil.example/x.png)",
    ":red[**boo**]",
    ":material/warning: alert",
    "www.evil.example",
    "HTTPS://evil.example/a and http://b.example and ftp://c.example",
    "mail me: someone@evil.example",
    "<https://evil.example>",
    "<img src=x onerror=alert(1)>",
    "$\\frac{1}{0}$",
    "# Heading",
    "- a list",
    "1. a list",
    "`code`",
    "| a | b |",
    "~~struck~~",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_markdown_construct_is_escaped_and_reads_as_the_text(text: str) -> None:
    escaped = plain(text)
    # No punctuation is left bare that Markdown could act on ...
    assert not re.search(r"(?<!\\)[\[\]()<>`*_:$#|~!.@-]", escaped.replace("\\\\", ""))
    # ... and a reader sees exactly the text (CommonMark drops the backslash of an escaped punctuation; the
    # word joiners that keep autolinks text are invisible).
    assert re.sub(r"\\(.)", r"\1", escaped).replace(JOINER, "") == text


def test_one_line_of_bounded_length() -> None:
    assert plain("first\nsecond\r\nthird\x00fourth") == "first second third fourth"
    long = plain("x" * 10_000)
    assert len(long) == 200 and long.endswith("…")
    assert cut("y" * 50, 20) == "y" * 19 + "…"
    assert plain(ValueError("an error: quoted")) == r"an error\: quoted"


def test_autolinks_are_broken_by_an_invisible_joiner() -> None:
    for text in ("https://evil.example", "WWW.evil.example", "someone@evil.example", "http://x"):
        escaped = plain(text)
        assert JOINER in escaped and not re.search(r"(?i)(https?|ftp)\\?:|www\\?\.|\w\\?@", escaped)
