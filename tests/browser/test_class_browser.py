"""A class in real browsers: a teacher on a desktop opens a class; three students (one on a phone) open its
join link, join and send a digit; the board shows them within seconds; the teacher freezes, hides,
exports and clears."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from harness import browser as bs
from harness import phone as ph
from support.browser import ARTIFACTS, DEFAULT, assert_no_exception

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def class_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.AppServer]:
    if not DEFAULT.is_file():
        pytest.skip(f"the shipped default checkpoint {DEFAULT} is not there yet")
    ARTIFACTS.mkdir(exist_ok=True)
    saved = {name: os.environ.get(name) for name in ("VAE_CLASS_STORE", "VAE_CLASS_SEND_EVERY")}
    os.environ["VAE_CLASS_STORE"] = f"sqlite:///{tmp_path_factory.mktemp('class') / 'classes.db'}"
    os.environ["VAE_CLASS_SEND_EVERY"] = "1"
    try:
        with bs.AppServer(ARTIFACTS / "class_server.log", ["--server.fileWatcherType", "none"]) as app:
            app.wait_healthy(90)
            yield app
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def open_class(browser, url: str):
    """A teacher's page with a class open on it, the class's join link and its code."""
    teacher = browser.new_context(viewport=bs.VIEWPORT).new_page()
    bs.goto_app(teacher, url)
    bs.open_view(teacher, "class")
    bs.rerun(teacher, teacher.get_by_role("button", name="Open a class").click)
    link = teacher.locator("code").filter(has_text="/class?join=").first.inner_text().strip()
    return teacher, link, link.rsplit("=", 1)[1]


def join(page, link: str, nickname: str) -> None:
    """Opens the join link, joins as `nickname`, then goes to Your own digit."""
    bs.goto_app(page, link, ready="text=Join a class")
    page.get_by_label("Nickname (optional, shown on the board)").fill(nickname)
    bs.rerun(page, page.get_by_role("button", name="Join").click)
    expect(page.get_by_text(f"as {nickname}", exact=False)).to_be_visible()
    bs.open_view(page, "digit")


def send_a_seven(page) -> None:
    bs.rerun(page, lambda: bs.upload(page, "seven.png", bs.digit_png("seven")))
    bs.rerun(page, page.get_by_role("button", name="Send to the class").click)
    expect(page.get_by_text("Sent to class", exact=False)).to_be_visible()


def join_and_send(page, link: str, nickname: str) -> None:
    join(page, link, nickname)
    send_a_seven(page)
    assert_no_exception(page)


def reload(page, url: str | None = None) -> None:
    """A reload (or `url` opened in the same tab): a new server session, its runs waited for."""
    bs._RUNS[page] = bs.ScriptRuns(page)
    if url:
        page.goto(url)
    else:
        page.reload()
    bs.wait_idle(page, 90)
    bs.wait_settled(page)


def test_three_students_digits_reach_the_teachers_board(browser, class_server: bs.AppServer) -> None:
    teacher, link, code = open_class(browser, class_server.url)
    expect(teacher.get_by_text(f"Scan to join class {code}")).to_be_visible()
    students = [browser.new_context(viewport=bs.VIEWPORT).new_page() for _ in range(2)]
    students.append(browser.new_context(**PHONE).new_page())
    for page, name in zip(students, ("Ada", "Bo", "Cy on a phone"), strict=True):
        join_and_send(page, link, name)
    for name in ("Ada", "Bo", "Cy on a phone"):  # within a board refresh or two
        expect(teacher.get_by_test_id("stImage").filter(has_text=name)).to_be_visible(timeout=15_000)
    bs.screenshot(teacher, ARTIFACTS / "class_board.png")
    violations = ph.axe_violations(teacher)  # the board, its QR code and the digits sent, for a screen reader too
    assert not violations, ph.describe(violations)
    bs.screenshot(students[2], ARTIFACTS / "class_student_phone.png")

    bs.rerun(teacher, teacher.get_by_role("button", name="Freeze the board").click)
    page = students[0]
    page.wait_for_timeout(1100)  # past the one-send-a-second rule
    bs.rerun(page, page.get_by_role("button", name="Send to the class").click)
    expect(page.get_by_text("paused the board", exact=False)).to_be_visible()
    bs.rerun(teacher, teacher.get_by_role("button", name="Unfreeze the board").click)

    # Exports at moments spread over the board's refreshes: each one must download (a download built when
    # clicked went unanswered for about a third of such clicks).
    for i, pause in enumerate((0, 300, 900, 1500, 1900, 700)):
        teacher.wait_for_timeout(pause)
        label = ("Export the entries (CSV)", "Export the board (PNG)")[i % 2]
        with teacher.expect_download(timeout=15_000) as download:
            teacher.get_by_role("button", name=label).click()
        if i == 0:
            exported = Path(download.value.path()).read_text()
            assert all(name in exported for name in ("Ada", "Bo", "Cy on a phone"))
        else:
            assert Path(download.value.path()).stat().st_size > 0
    hide = teacher.get_by_role("button", name="Hide").first
    bs.rerun(teacher, hide.click)
    expect(teacher.get_by_text("Hidden (1)")).to_be_visible(timeout=15_000)
    bs.rerun(teacher, teacher.get_by_role("button", name="Clear the board").click)
    expect(teacher.get_by_text("Nothing sent yet", exact=False)).to_be_visible(timeout=15_000)
    assert_no_exception(teacher)
    for page in [teacher, *students]:
        page.context.close()


def test_a_reload_keeps_the_teachers_board_and_the_students_class_and_a_forged_token_gets_nothing(
    browser, class_server: bs.AppServer
) -> None:
    """A reload starts a new server session: the browser's own copy of its class brings the teacher's board
    and the student's class back, once the store agrees; a token the browser made up opens nothing."""
    teacher, link, code = open_class(browser, class_server.url)
    student = browser.new_context(**PHONE).new_page()
    join(student, link, "Di")
    reload(teacher)
    reload(student)
    expect(teacher.get_by_text(f"Join code: {code}")).to_be_visible(timeout=15_000)
    send_a_seven(student)
    expect(teacher.get_by_test_id("stImage").filter(has_text="Di")).to_be_visible(timeout=15_000)
    bs.open_view(student, "class")  # a student who leaves stays out after a reload
    bs.rerun(student, student.get_by_role("button", name="Leave the class").click)
    reload(student)
    expect(student.get_by_role("button", name="Join")).to_be_visible()
    # Another browser claims the class with a token of its own making: no board, no controls.
    stranger = browser.new_context(viewport=bs.VIEWPORT).new_page()
    bs.goto_app(stranger, class_server.url)
    stranger.evaluate(
        "code => localStorage.setItem('vae-latent-explorer-class', JSON.stringify({teach: [code, 'f'.repeat(32)]}))",
        code,
    )
    reload(stranger, f"{class_server.url}/class")
    expect(stranger.get_by_role("button", name="Open a class")).to_be_visible()
    expect(stranger.get_by_text(f"Join code: {code}")).to_have_count(0)
    assert stranger.evaluate("() => localStorage.getItem('vae-latent-explorer-class')") is None
    for page in (teacher, student, stranger):
        assert_no_exception(page)
        page.context.close()
