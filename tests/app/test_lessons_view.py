"""Lessons in the app: a shipped lesson walked step by step for each model it names, a link that opens one,
the presenter flag, a lesson written in the app, downloaded and uploaded back, and bad files refused."""

from __future__ import annotations

import pytest
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest

from explorer.pages import VIEWS
from explorer.pages import lessons as page
from explorer.state.lessons import Lesson, Step, lesson_toml, read_shipped, shipped_lessons
from support.app import APP, LISTING, assert_clean, open_view, start

VIEW_NAMES = [view.url_path for view in VIEWS if view.url_path != "lessons"]
MODELS = [c.name.removesuffix(".safetensors") for c in LISTING.checkpoints]


def buttons(at: AppTest) -> dict:
    return {b.key: b for b in at.button if b.key}


def shown_model(at: AppTest) -> str:
    return at.session_state["active_model"].rsplit("/", 1)[-1].removesuffix(".safetensors")


def check_step(at: AppTest, step) -> None:
    assert_clean(at)
    assert at.session_state["view"] == step.view
    if step.state.model is not None:
        assert shown_model(at) == step.state.model
    for key, value in (("morph_a", step.state.a), ("morph_b", step.state.b), ("prior_seed", step.state.seed)):
        if value is not None:
            assert at.session_state[key] == value


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(shipped_lessons()))
def test_every_step_of_every_shipped_lesson_opens_without_an_error(name):
    lesson = read_shipped(name, VIEW_NAMES, MODELS)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"lesson": name, "step": "1"})
    at.run()
    for index, step in enumerate(lesson.steps):
        check_step(at, step)
        assert at.query_params["lesson"] == name and at.query_params["step"] == str(index + 1)
        assert any(f"Step {index + 1} of {len(lesson.steps)}" in m.value for m in at.markdown)
        if step.question:  # the view waits for the prediction; "Show me" reveals it
            at.text_input(key=f"lesson_guess_{index}").input("my guess").run()
            buttons(at)["lesson_reveal"].click().run()
            assert_clean(at)
            if step.answer:
                assert at.success
        if index + 1 < len(lesson.steps):
            buttons(at)["lesson_next"].click().run()
    assert buttons(at)["lesson_next"].disabled
    # play, then one click back to the step's state
    at.session_state["morph_a"] = 1234
    buttons(at)["lesson_back"].click().run()
    buttons(at)["lesson_again"].click().run()
    check_step(at, lesson.steps[-2])


def test_a_link_opens_a_lesson_at_a_step_and_a_bad_one_says_why():
    lesson = read_shipped("week8", VIEW_NAMES, MODELS)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"lesson": "week8", "step": "6"})
    at.run()
    check_step(at, lesson.steps[5])
    bad = AppTest.from_file(str(APP), default_timeout=60)
    bad.query_params.update({"lesson": "nope", "step": "99"})
    bad.run()
    assert not bad.exception
    (warning,) = [w.value for w in bad.warning]
    assert "step" in warning and "no lesson" in warning


def test_the_presenter_flag_hides_the_sidebar_and_keeps_itself_in_the_address():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"lesson": "week8", "step": "2", "present": "1"})
    at.run()
    assert_clean(at)
    assert at.session_state["present"] is True and at.query_params["present"] == "1"
    styles = [e.proto.body for e in at.get("html")]  # style-only HTML: the page's event container
    assert any('stSidebar"]' in s and "display: none" in s for s in styles)
    buttons(at)["leave_present"].click().run()
    assert "present" not in at.query_params
    assert not any("stSidebar" in e.proto.body for e in at.get("html"))


def author(at: AppTest, view: str, caption: str, **state) -> None:
    for key, value in state.items():
        at.session_state[key] = value
    open_view(at, view)
    at.sidebar.button(key="lesson_add_step").click().run()
    open_view(at, "lessons")
    step_id = at.session_state["lesson_draft"]["steps"][-1]["id"]
    at.text_area(key=f"draft_caption_{step_id}").input(caption).run()


@pytest.mark.slow
def test_a_lesson_written_in_the_app_round_trips_through_its_file():
    at = start()
    author(at, "morph", "An <b>overlay</b> $a<b$", morph_a=5, morph_b=9, morph_frames=4)
    author(at, "samples", "Samples", prior_seed=42)
    author(at, "sliders", "Third")
    steps = at.session_state["lesson_draft"]["steps"]
    at.text_input(key=f"draft_question_{steps[0]['id']}").input("Digits?").run()
    at.button(key=f"draft_up_{steps[1]['id']}").click().run()  # samples first now
    at.button(key=f"draft_delete_{steps[2]['id']}").click().run()
    at.text_input(key="draft_title").input("Mine").run()
    assert_clean(at)
    draft = at.session_state["lesson_draft"]
    assert [s["view"] for s in draft["steps"]] == ["samples", "morph"]
    (download,) = [d for d in at.get("download_button") if d.proto.label == "Download the lesson file"]
    # What was downloaded, rebuilt from the draft and checked against the button's file (named by its bytes).
    steps = tuple(Step(s["view"], s["state"], s["caption"], s["question"], s["answer"]) for s in draft["steps"])
    lesson = Lesson("Mine", steps)
    data = lesson_toml(lesson).encode("utf-8")
    assert _calculate_file_id(data, "application/toml", page.file_name("Mine")) in download.proto.url
    assert lesson.steps[1].state.a == 5 and lesson.steps[1].state.b == 9 and lesson.steps[1].state.k == 4
    assert lesson.steps[0].state.seed == 42 and lesson.steps[1].question == "Digits?"
    fresh = start("lessons")
    upload_lesson(fresh, data)
    assert_clean(fresh)
    assert fresh.session_state["lesson"] == lesson
    assert fresh.session_state["view"] == "samples" and fresh.session_state["prior_seed"] == 42
    buttons(fresh)["lesson_next"].click().run()
    assert fresh.session_state["morph_a"] == 5 and fresh.session_state["morph_frames"] == 4
    # the caption's tag shows as text, its maths as maths
    (caption,) = [m.value for m in fresh.markdown if m.value.startswith("An ")]
    assert "<b>" not in caption and "&lt;b>overlay&lt;/b>" in caption and "$a<b$" in caption


def upload_lesson(at: AppTest, data: bytes, name: str = "lesson.toml") -> None:
    at.file_uploader(key="lesson_upload").upload(name, data).run()


def test_a_bad_lesson_file_gets_one_line_per_problem_and_a_script_caption_is_text():
    at = start("lessons")
    upload_lesson(at, b'title = "T"\n[[steps]]\nview = "foo"\ncaption = ""\n')
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.count("\n- ") == 2 and "foo" in error and "caption is empty" in error
    upload_lesson(at, b'title = "T"\n[[steps]]\nview = "morph"\ncaption = "<script>alert(1)</script> hi"\n')
    assert_clean(at)
    (caption,) = [m.value for m in at.markdown if "hi" in m.value and "alert" in m.value]
    assert "<script>" not in caption and caption == "&lt;script>alert(1)&lt;/script> hi"
