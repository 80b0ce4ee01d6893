"""Text that came from a visitor (a link's value, a file name, a checkpoint's metadata, an error that
quotes them) shown as text: Streamlit renders Markdown in messages, captions, labels and options, so a
link, an image, a colour directive or an emoji code in such text would be acted on. Every character
Markdown could act on is escaped, line breaks and control characters become spaces, and it is cut short.
"""

from __future__ import annotations

import re

from vae.checkpoint import clip

# CommonMark lets a backslash escape any ASCII punctuation. These are what Streamlit's Markdown can act on:
# emphasis, code, links and images, autolinks (www. and https:, and e-mail addresses), its :colour[…],
# :emoji: and :material/icon: directives, $ for maths, tables, headings and lists.
SPECIALS = re.compile(r"""([\\`*_{}\[\]()<>#+\-.!|~:$=&@"'])""")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u2060]+")
# GitHub's autolinks (https://…, www.…, a@b.c) are found in the text even with their punctuation escaped:
# an invisible word joiner (U+2060) inside each pattern keeps it text.
AUTOLINK = re.compile(r"(?i)(?<=https)(?=\\:)|(?<=http)(?=\\:)|(?<=ftp)(?=\\:)|(?<=www)(?=\\\.)|(?=\\@)")
JOINER = "\u2060"
LIMIT = 200


def cut(text: object, limit: int = LIMIT) -> str:
    """One line of at most `limit` characters, "…" where it was cut."""
    return clip(CONTROL.sub(" ", str(text)), limit)


def plain(text: object, limit: int = LIMIT) -> str:
    """`text` as Markdown that shows it literally, in one line of at most `limit` characters."""
    return AUTOLINK.sub(JOINER, SPECIALS.sub(r"\\\1", cut(text, limit)))
