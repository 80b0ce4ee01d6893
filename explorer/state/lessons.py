"""Lessons: a small TOML file of ordered steps, each a view, the state a link would hold, a caption and an
optional question with its answer. Reading, checking and writing them; no Streamlit here.

    title = "What a VAE learns"

    [[steps]]
    view = "morph"
    state = { model = "ae_d20", a = 3, b = 2, k = 8 }
    caption = "An autoencoder's codes: the middle frames are overlays."
    question = "Predict: will the in-between frames look like digits?"
    answer = "No: ghostly overlays of a 3 and a 2."

A step's state has the names and values of a link's query (explorer/state/url.py: model, z, a, b, k, seed,
n, T, pick, p, epoch) and is read by the same `parse_link`: what a lesson can set is exactly what a link
can. A file that does not fit is refused with one line per problem, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import tomllib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from explorer.state.url import LinkState, code_text, link_params, parse_link

MAX_BYTES = 64 * 1024
MAX_STEPS = 50
MAX_TITLE = 100
MAX_CAPTION = 1_000
MAX_QUESTION = 300  # the question and its answer, each
MAX_PROBLEMS = 12  # lines said about one bad file; then "and N more"
MAX_LINK_CHARS = 6_000  # a lesson carried in a link (lesson_text=): past this, send the file
LESSON_DIR = Path(__file__).resolve().parents[2] / "lessons"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")  # a shipped lesson's file stem, as a link names it
TOP_KEYS = ("title", "about", "steps")
STEP_KEYS = ("view", "state", "caption", "question", "answer")
STATE_KEYS = ("model", "z", "a", "b", "k", "seed", "n", "T", "pick", "p", "epoch")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and line breaks are text; the rest is not


@dataclass(frozen=True)
class Step:
    view: str  # a view's url path (explorer.pages.VIEWS)
    state: LinkState  # what a link to the step would hold
    caption: str  # Markdown without raw HTML (shown through `safe_markdown`)
    question: str = ""  # asked before the reveal; "" for none
    answer: str = ""  # shown with the reveal


@dataclass(frozen=True)
class Lesson:
    title: str
    steps: tuple[Step, ...]
    about: str = ""


class LessonError(ValueError):
    """A file that is not a lesson: `problems` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def _text(value: object, where: str, limit: int, problems: list[str], required: bool = False) -> str:
    if value is None:
        if required:
            problems.append(f"{where} is missing")
        return ""
    if not isinstance(value, str):
        problems.append(f"{where} is not text")
        return ""
    if CONTROL.search(value):
        problems.append(f"{where} holds control characters")
        return ""
    if required and not value.strip():
        problems.append(f"{where} is empty")
    if len(value) > limit:
        problems.append(f"{where} is too long ({len(value):,} characters, at most {limit:,})")
        return ""
    return value


def _state_value(name: str, value: object) -> str | None:
    """A state value as the link would write it; None for a type no link value has."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return f"{value}"
    if name in ("z", "p") and isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        if any(isinstance(v, bool) for v in value):
            return None
        return code_text(value) if value else ""
    return None


def parse_state(table: object, where: str, models: Sequence[str], problems: list[str]) -> LinkState:
    if table is None:
        return LinkState()
    if not isinstance(table, dict):
        problems.append(f"{where}: state is not a table (e.g. state = {{ a = 3, b = 7 }})")
        return LinkState()
    params: dict[str, str] = {}
    for name, value in table.items():
        if name not in STATE_KEYS:
            problems.append(f"{where}: state {name[:30]!r} is not something a link holds ({', '.join(STATE_KEYS)})")
            continue
        text = _state_value(name, value)
        if text is None:
            problems.append(f"{where}: state {name} = {str(value)[:40]!r} is not a value a link holds")
            continue
        params[name] = text
    link = parse_link(params, models)
    problems.extend(f"{where}: {note}" for note in link.notes)
    return link


def parse_lesson(data: bytes | str, views: Sequence[str], models: Sequence[str]) -> Lesson:
    """The lesson in a file's bytes, or LessonError with one line per problem. `views` are the views'
    url paths, `models` the checkpoint names a step's state may name."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise LessonError([f"the file is too long ({len(raw):,} bytes, at most {MAX_BYTES:,})"])
    if not raw.strip():
        raise LessonError(["the file is empty"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError(["the file is not text (UTF-8)"]) from None
    if "\x00" in text:
        raise LessonError(["the file is not text (it holds NUL bytes)"])
    try:
        document = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise LessonError([f"the file is not a lesson's TOML: {str(exc)[:120]}"]) from None
    problems: list[str] = []
    for key in document:
        if key not in TOP_KEYS:
            problems.append(f"{key[:30]!r} is not part of a lesson (title, about, steps)")
    title = _text(document.get("title"), "the title", MAX_TITLE, problems, required=True)
    about = _text(document.get("about"), "about", MAX_CAPTION, problems)
    entries = document.get("steps")
    if entries is None:
        problems.append("the lesson has no steps ([[steps]])")
        entries = []
    elif not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append("steps is not a list of tables ([[steps]])")
        entries = []
    elif not entries:
        problems.append("the lesson has no steps ([[steps]])")
    elif len(entries) > MAX_STEPS:
        problems.append(f"the lesson has {len(entries)} steps, at most {MAX_STEPS}")
        entries = []
    steps = []
    for number, entry in enumerate(entries, start=1):
        where = f"step {number}"
        for key in entry:
            if key not in STEP_KEYS:
                problems.append(f"{where}: {key[:30]!r} is not part of a step ({', '.join(STEP_KEYS)})")
        view = entry.get("view")
        if view is None:
            problems.append(f"{where}: no view")
        elif not isinstance(view, str) or view not in views:
            problems.append(f"{where}: view {str(view)[:30]!r} is not a view ({', '.join(views)})")
        state = parse_state(entry.get("state"), where, models, problems)
        caption = _text(entry.get("caption"), f"{where}: the caption", MAX_CAPTION, problems, required=True)
        question = _text(entry.get("question"), f"{where}: the question", MAX_QUESTION, problems)
        answer = _text(entry.get("answer"), f"{where}: the answer", MAX_QUESTION, problems)
        if answer and not question:
            problems.append(f"{where}: an answer with no question")
        steps.append(Step(str(view), state, caption, question, answer))
    if problems:
        raise LessonError(problems)
    return Lesson(title=title, steps=tuple(steps), about=about)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, except DEL, which TOML wants escaped)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(name: str, text: str) -> str:
    """A link value in the file: numbers as numbers, codes and names as strings."""
    if name in ("model", "z", "p"):
        return _toml_string(text)
    return text


def lesson_toml(lesson: Lesson) -> str:
    """The lesson as a file `parse_lesson` reads back to the same lesson."""
    lines = [f"title = {_toml_string(lesson.title)}"]
    if lesson.about:
        lines.append(f"about = {_toml_string(lesson.about)}")
    for step in lesson.steps:
        lines += ["", "[[steps]]", f"view = {_toml_string(step.view)}"]
        params = link_params(step.state, LinkState())
        if params:
            lines.append("state = { " + ", ".join(f"{k} = {_toml_value(k, v)}" for k, v in params.items()) + " }")
        lines.append(f"caption = {_toml_string(step.caption)}")
        if step.question:
            lines.append(f"question = {_toml_string(step.question)}")
        if step.answer:
            lines.append(f"answer = {_toml_string(step.answer)}")
    return "\n".join(lines) + "\n"


def problem_lines(error: LessonError) -> list[str]:
    lines = list(error.problems[:MAX_PROBLEMS])
    if len(error.problems) > MAX_PROBLEMS:
        lines.append(f"and {len(error.problems) - MAX_PROBLEMS} more")
    return lines


def shipped_lessons(folder: Path = LESSON_DIR) -> dict[str, Path]:
    """The operator's lessons: lessons/NAME.toml, by name (a link's lesson=NAME)."""
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in sorted(folder.glob("*.toml")) if NAME.match(path.stem)}


def read_shipped(name: str, views: Sequence[str], models: Sequence[str], folder: Path = LESSON_DIR) -> Lesson:
    path = shipped_lessons(folder).get(name)
    if path is None:
        raise LessonError([f"there is no lesson {name[:40]!r} here"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LessonError([f"the lesson {name!r} cannot be read ({exc.strerror})"]) from None
    return parse_lesson(data, views, models)


def lesson_to_link(lesson: Lesson) -> str | None:
    """The lesson packed for a link (zlib, base64url), None when too long for one."""
    packed = base64.urlsafe_b64encode(zlib.compress(lesson_toml(lesson).encode("utf-8"), 9)).decode("ascii")
    return packed.rstrip("=") if len(packed) <= MAX_LINK_CHARS else None


def lesson_from_link(text: str, views: Sequence[str], models: Sequence[str]) -> Lesson:
    if len(text) > MAX_LINK_CHARS:
        raise LessonError(["the lesson in this link is too long"])
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = zlib.decompressobj().decompress(packed, MAX_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise LessonError(["the lesson in this link is damaged"]) from None
    return parse_lesson(data, views, models)


def split_math(text: str) -> list[tuple[bool, str]]:
    """(is_math, part) of a caption: $…$ and $$…$$ are maths, the rest text."""
    parts: list[tuple[bool, str]] = []
    for index, part in enumerate(re.split(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", text, flags=re.S)):
        if part:
            parts.append((index % 2 == 1, part))
    return parts


def safe_markdown(caption: str) -> str:
    """A caption as Markdown with no raw HTML: outside maths, < and & are written as entities, so a tag
    (<script>, <img onerror=…>) shows as the text it is. Maths is left to KaTeX, which runs no HTML."""
    return "".join(
        part if is_math else part.replace("&", "&amp;").replace("<", "&lt;") for is_math, part in split_math(caption)
    )


def step_counter(step: int, total: int) -> str:
    return f"Step {step + 1} of {total}"


def clamp_step(step: int, lesson: Lesson) -> int:
    return min(max(int(step), 0), len(lesson.steps) - 1)


def state_of(step: Step) -> Mapping[str, str]:
    """The step's state as a link's query parameters."""
    return link_params(step.state, LinkState())
