"""Lessons: the file format read, checked and written back (explorer/state/lessons.py)."""

from __future__ import annotations

import pytest

from explorer.pages import VIEWS
from explorer.state.lessons import (
    MAX_BYTES,
    Lesson,
    LessonError,
    Step,
    lesson_from_link,
    lesson_to_link,
    lesson_toml,
    parse_lesson,
    read_shipped,
    safe_markdown,
    shipped_lessons,
)
from explorer.state.url import LinkState

VIEW_NAMES = [view.url_path for view in VIEWS]
MODELS = ["vae_d20", "vae_d2", "ae_d20"]
GOOD_STEP = '[[steps]]\nview = "morph"\nstate = { a = 3, b = 7 }\ncaption = "Hi"\n'


def parse(text: str | bytes) -> Lesson:
    return parse_lesson(text, VIEW_NAMES, MODELS)


def test_a_lesson_round_trips_through_its_file():
    lesson = Lesson(
        title='A "quoted" title — with ünïcode',
        about="Line one\nline two\twith a tab",
        steps=(
            Step("morph", LinkState(model="ae_d20", a=3, b=7, k=8), "The $z = (1-t) z_A$ path", "Will it?", "No."),
            Step("sliders", LinkState(model="vae_d2", code=(0.5, -1.25)), "Drag \\ them 🙂"),
            Step("samples", LinkState(seed=7, count=12, temperature=1.5), "T"),
            Step("training", LinkState(model="vae_d20", epoch=5), "Epoch 5"),
            Step("plane", LinkState(plane=(1.5, -0.25)), "Pin", "Q?"),
            Step("map", LinkState(pick=42), "Map"),
        ),
    )
    assert parse(lesson_toml(lesson)) == lesson
    assert lesson_from_link(lesson_to_link(lesson), VIEW_NAMES, MODELS) == lesson


def test_every_shipped_lesson_reads():
    assert "week8" in shipped_lessons()
    for name in shipped_lessons():
        lesson = read_shipped(name, VIEW_NAMES, MODELS)
        assert 1 <= len(lesson.steps) <= 50
        assert parse(lesson_toml(lesson)) == lesson


BAD = {
    "empty": ("", "the file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not text"),
    "latin-1": ('title = "caf\xe9"'.encode("latin-1"), "not text (UTF-8)"),
    "nul": ('title = "a"\n\x00', "NUL"),
    "too long": ("#" * (MAX_BYTES + 1), "too long"),
    "not toml": ("title = \n", "not a lesson's TOML"),
    "markdown": ("# A lesson\n\nSome text", "not a lesson's TOML"),
    "no steps": ('title = "T"', "no steps"),
    "zero steps": ('title = "T"\nsteps = []', "no steps"),
    "steps not tables": ('title = "T"\nsteps = [1, 2]', "not a list of tables"),
    "too many steps": ('title = "T"\n' + GOOD_STEP * 51, "51 steps, at most 50"),
    "no title": (GOOD_STEP, "the title is missing"),
    "title not text": ("title = 3\n" + GOOD_STEP, "the title is not text"),
    "title too long": (f'title = "{"x" * 101}"\n' + GOOD_STEP, "the title is too long"),
    "unknown top key": ('title = "T"\nauthor = "me"\n' + GOOD_STEP, "'author' is not part of a lesson"),
    "no view": ('title = "T"\n[[steps]]\ncaption = "c"', "step 1: no view"),
    "unknown view": ('[[steps]]\nview = "foo"\ncaption = "c"', "step 1: view 'foo' is not a view (sliders"),
    "view not text": ('title = "T"\n[[steps]]\nview = 3\ncaption = "c"', "view '3' is not a view"),
    "no caption": ('title = "T"\n[[steps]]\nview = "morph"', "step 1: the caption is missing"),
    "blank caption": ('title = "T"\n[[steps]]\nview = "morph"\ncaption = "  "', "the caption is empty"),
    "caption too long": (f'title = "T"\n[[steps]]\nview = "morph"\ncaption = "{"x" * 1001}"', "caption is too long"),
    "question too long": (GOOD_STEP + f'question = "{"q" * 301}"', "the question is too long"),
    "answer too long": (GOOD_STEP + f'question = "q"\nanswer = "{"a" * 301}"', "the answer is too long"),
    "answer alone": (GOOD_STEP + 'answer = "a"', "an answer with no question"),
    "control character": ('title = "T"\n[[steps]]\nview = "morph"\ncaption = "a\\u001bb"', "control characters"),
    "unknown step key": (GOOD_STEP + 'script = "x"', "'script' is not part of a step"),
    "state not table": ('[[steps]]\nview = "morph"\nstate = 3\ncaption = "c"', "state is not a table"),
    "unknown state key": ('[[steps]]\nview = "morph"\nstate = { x = 1 }\ncaption = "c"', "state 'x' is not"),
    "out of range": ('[[steps]]\nview = "morph"\nstate = { a = 10000 }\ncaption = "c"', "a='10000' is not a test"),
    "bad model": ('[[steps]]\nview = "morph"\nstate = { model = "nope" }\ncaption = "c"', "'nope' is not a model"),
    "bool value": ('[[steps]]\nview = "morph"\nstate = { k = true }\ncaption = "c"', "k = 'True' is not a value"),
    "bad code": ('[[steps]]\nview = "sliders"\nstate = { z = "a,b" }\ncaption = "c"', "z='a,b' is not a code"),
    "bad temperature": ('[[steps]]\nview = "samples"\nstate = { T = 9 }\ncaption = "c"', "is not a temperature"),
    "bad point": ('[[steps]]\nview = "plane"\nstate = { p = [1, 2, 3] }\ncaption = "c"', "not a point of the plane"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_lesson_is_refused_in_one_line_per_problem(case):
    data, expected = BAD[case]
    with pytest.raises(LessonError) as caught:
        parse(data)
    problems = caught.value.problems
    assert any(expected in line for line in problems), problems
    assert all("\n" not in line and len(line) < 300 for line in problems)


def test_every_problem_is_said_not_only_the_first():
    text = '[[steps]]\nview = "foo"\ncaption = ""\n[[steps]]\nview = "morph"\nstate = { a = -1 }\ncaption = "c"'
    with pytest.raises(LessonError) as caught:
        parse(text)
    assert len(caught.value.problems) == 4  # no title, step 1's view and caption, step 2's a


def test_a_damaged_link_is_refused():
    for text in ("!!!", "abcd", "x" * 7000):
        with pytest.raises(LessonError):
            lesson_from_link(text, VIEW_NAMES, MODELS)


def test_a_caption_holding_html_keeps_it_as_text_and_its_maths_as_maths():
    caption = 'Look <script>alert(1)</script> & <img src=x onerror="alert(2)"> at $a < b$ and $$x<y$$'
    markdown = safe_markdown(caption)
    assert "<script>" not in markdown and "<img" not in markdown
    assert "&lt;script>alert(1)&lt;/script> &amp; &lt;img" in markdown
    assert "$a < b$" in markdown and "$$x<y$$" in markdown


def test_a_lesson_link_reads_its_step_and_presenter_flag():
    from explorer.state.url import LessonLink, lesson_link_params, parse_lesson_link

    link = parse_lesson_link({"lesson": "week8", "step": "3", "present": "1"})
    assert link == LessonLink(name="week8", step=2, present=True)
    assert lesson_link_params(link) == {"lesson": "week8", "step": "3", "present": "1"}
    bad = parse_lesson_link({"lesson": "week8", "step": "0", "present": "maybe"})
    assert bad.step == 0 and not bad.present and len(bad.notes) == 2
    assert lesson_link_params(LessonLink(present=True)) == {"present": "1"}
