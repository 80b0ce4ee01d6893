"""A class session through AppTest: a teacher opens a class, a student joins with its code and sends a digit,
the teacher's board shows it; the rules hold from the pages too (a student cannot control a class, a wrong
code is one line, a store that is down is one line, a nickname is text)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.service.classroom import class_store
from explorer.settings import settings
from support.app import APP, assert_clean, open_view, png_of_seven, shown, start


@pytest.fixture(autouse=True)
def own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_CLASS_STORE", f"sqlite:///{tmp_path / 'classes.db'}")
    monkeypatch.setenv("VAE_CLASS_SEND_EVERY", "0.01")
    settings.cache_clear()
    class_store.clear()
    yield
    class_store.clear()


def teacher() -> tuple[AppTest, str]:
    at = start("class")
    at.button(key="class_open").click().run()
    assert_clean(at)
    code, _ = at.session_state["class_teaching"]
    assert any(code in m.value for m in at.markdown)  # the join code, large
    assert [i for i in at.image if f"Scan to join class {code}" in i.captions[0]]  # the QR code
    return at, code


def student(code: str, nickname: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["join"] = code  # the join link
    at.run()
    open_view(at, "class")
    assert at.text_input(key="class_join_code").value == code
    at.text_input(key="class_nickname").set_value(nickname)
    at.button[0].click() if False else None
    at.get("form_submit_button")
    submit = [b for b in at.button if b.label == "Join"]
    submit[0].click().run()
    assert_clean(at)
    return at


def send_a_digit(at: AppTest) -> None:
    open_view(at, "digit")
    at.file_uploader(key="digit_upload").set_value(("seven.png", png_of_seven(), "image/png")).run()
    at.selectbox(key="class_meant").set_value(7).run()
    at.button(key="class_send_digit").click().run()
    assert_clean(at)


def test_a_students_digit_reaches_the_teachers_board(monkeypatch: pytest.MonkeyPatch) -> None:
    board, code = teacher()
    pupil = student(code, "Ada")
    assert [s for s in pupil.success if f"class {code} as Ada" in shown(s.value)]
    send_a_digit(pupil)
    assert [c for c in pupil.caption if f"Sent to class {code}" in shown(c.value)]
    board.run()
    assert_clean(board)
    assert [i for i in board.image if i.captions and i.captions[0] == "Ada"]  # the digit, named by its sender
    assert any("1 sent" in c.value for c in board.caption)
    assert "class_teaching" not in pupil.session_state  # a student's session has no control of the class


@pytest.mark.slow
def test_a_nickname_is_shown_as_text_and_a_wrong_code_is_one_line() -> None:
    board, code = teacher()
    pupil = student(code, "[x](www.e.example)**b**")
    send_a_digit(pupil)
    board.run()
    (name,) = [i.captions[0] for i in board.image if i.captions and "e.example" in shown(i.captions[0])]
    assert shown(name) == "[x](www.e.example)**b**" and "](" not in name
    stranger = student("ZZZZ", "Bo")
    assert [i for i in stranger.info if "no class" in i.value and "wrong or expired" in i.value]
    assert "class_joined" not in stranger.session_state


def test_the_teacher_closes_the_class_and_a_student_can_no_longer_send() -> None:
    board, code = teacher()
    pupil = student(code, "Ada")
    board.button(key="class_close").click().run()
    assert "class_teaching" not in board.session_state
    send_a_digit(pupil)
    assert [c for c in pupil.caption if "closed by its teacher" in shown(c.value)]


def test_a_store_that_is_down_is_one_line_and_the_app_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_CLASS_STORE", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    settings.cache_clear()
    class_store.clear()
    at = start("class")
    at.button(key="class_open").click().run()
    assert_clean(at)
    assert [i for i in at.info if "the class store cannot be reached" in shown(i.value)]
    open_view(at, "sliders")
    assert_clean(at)
