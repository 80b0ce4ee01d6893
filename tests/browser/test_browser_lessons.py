"""A student walks the shipped lesson in Chromium: opened from the Lessons page, each step's caption shown,
questions answered before the reveal, Next by click and by the arrow key, to the last step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from explorer.pages import VIEWS
from explorer.state.lessons import read_shipped
from harness import browser as bs
from support.app import LISTING
from support.browser import assert_no_exception, shot

pytestmark = pytest.mark.browser

VIEW_NAMES = [view.url_path for view in VIEWS if view.url_path != "lessons"]
MODELS = [c.name.removesuffix(".safetensors") for c in LISTING.checkpoints]


def bar_button(page, key: str):
    return page.locator(f".st-key-{key} button")


def test_a_student_walks_the_shipped_lesson_from_first_step_to_last(page):
    lesson = read_shipped("week8", VIEW_NAMES, MODELS)
    bs.open_view(page, "lessons")
    bs.rerun(page, page.locator(".st-key-open_week8 button").click)
    bs.wait_settled(page)
    total = len(lesson.steps)
    for index, step in enumerate(lesson.steps):
        expect(page.get_by_text(f"Step {index + 1} of {total}")).to_be_visible(timeout=60_000)
        first_words = step.caption.split("$")[0].strip()[:30]
        expect(page.locator(".st-key-lesson_caption")).to_contain_text(first_words)
        assert_no_exception(page)
        if step.question:
            guess = page.get_by_label("Your prediction (for you: not sent anywhere)")
            guess.fill("I think not")
            guess.press("Enter")
            bs.wait_settled(page)
            bs.rerun(page, bar_button(page, "lesson_reveal").click)
            bs.wait_settled(page)
            if step.answer:
                expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(step.answer[:20])
        if index in (0, 5):
            shot(page, f"lesson_step_{index + 1}")
        if index + 1 == total:
            break
        if index == 2:  # the arrow key steps too (outside a text box)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            bs.rerun(page, lambda: page.keyboard.press("ArrowRight"))
        else:
            bs.rerun(page, bar_button(page, "lesson_next").click)
        bs.wait_settled(page)
    expect(bar_button(page, "lesson_next")).to_be_disabled()
    assert "lesson=week8" in page.url and f"step={total}" in page.url
    assert_no_exception(page)
