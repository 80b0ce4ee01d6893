"""The open lesson of a session: open one (the list, a file, a link), go to a step and set the views to its
state, reveal a step's answer, present it on a projector. The file format: explorer/state/lessons.py; the
bar that walks it: explorer/ui/lesson_bar.py."""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

from explorer.state.lessons import Lesson, LessonError, lesson_from_link, lesson_to_link, read_shipped
from explorer.state.links import PENDING_CODE, PENDING_EPOCH, PENDING_RESET, model_names
from explorer.state.session import LESSON_LINK, MODEL_CHOICE, PLANE_PIN, guarded, request_view, ss
from explorer.state.url import DEFAULT_SAMPLES, LessonLink, LinkState, parse_lesson_link
from vae.catalog import list_checkpoints
from vae.paths import checkpoint_dir

LESSON = "lesson"  # the open Lesson
LESSON_NAME = "lesson_name"  # a shipped lesson's name, None for one opened from a file or authored here
LESSON_STEP = "lesson_step"  # the step shown, counted from 0
REVEALED = "lesson_revealed"  # the steps whose answer this session has revealed
PRESENT = "present"  # presenter mode (the sidebar's toggle)
READ = "lesson_read"  # this session has read the lesson its address named
PROBLEMS = "lesson_problems"  # one line each: what stopped a lesson from opening, said once on the page
NOT_STEP_VIEWS = ("lessons",)  # a step cannot be the lessons page itself

# The state a step leaves at its default when it does not name it (as a link would).
DEFAULTS = {
    "morph_a": 0,
    "morph_b": 1,
    "morph_frames": 10,
    "prior_seed": 0,
    "prior_count": DEFAULT_SAMPLES,
    "prior_temperature": 1.0,
    "map_pick": None,
    PLANE_PIN: None,
}


def step_views() -> list[str]:
    from explorer.pages import VIEWS  # the pages import this package: import them when asked, not before

    return [view.url_path for view in VIEWS if view.url_path not in NOT_STEP_VIEWS]


def view_titles() -> dict[str, str]:
    from explorer.pages import VIEWS

    return {view.url_path: view.title for view in VIEWS}


def models_here() -> dict[str, str]:
    return model_names(list_checkpoints(checkpoint_dir()))


def apply_state(state: LinkState, view: str) -> None:
    """Sets the views to a step's state, exactly as a link with it would; what it leaves out, to its default."""
    names = models_here()
    if state.model is not None and state.model in names:
        ss[MODEL_CHOICE] = names[state.model]
    values = {
        "morph_a": state.a,
        "morph_b": state.b,
        "morph_frames": state.k,
        "prior_seed": state.seed,
        "prior_count": state.count,
        "prior_temperature": state.temperature,
        "map_pick": state.pick,
        PLANE_PIN: None if state.plane is None else list(state.plane),
    }
    for key, value in values.items():
        value = DEFAULTS[key] if value is None else value
        if value is None:
            ss.pop(key, None)
        else:
            ss[key] = value
    ss[PENDING_RESET] = True  # the code and the epoch belong to the model: set once it is loaded
    ss.pop(PENDING_CODE, None)
    ss.pop(PENDING_EPOCH, None)
    if state.code is not None:
        ss[PENDING_CODE] = list(state.code)
    if state.epoch is not None:
        ss[PENDING_EPOCH] = state.epoch
    request_view(view)


def current_lesson() -> tuple[Lesson, int] | None:
    lesson = ss.get(LESSON)
    if not isinstance(lesson, Lesson):
        return None
    return lesson, min(max(int(ss.get(LESSON_STEP, 0)), 0), len(lesson.steps) - 1)


@guarded
def go_to(index: int) -> None:
    """Shows step `index` (counted from 0) and sets the views to its state."""
    opened = current_lesson()
    if opened is None:
        return
    lesson, _ = opened
    index = min(max(int(index), 0), len(lesson.steps) - 1)
    ss[LESSON_STEP] = index
    step = lesson.steps[index]
    apply_state(step.state, step.view)


def open_lesson(lesson: Lesson, name: str | None, step: int = 0, apply: bool = True) -> None:
    ss[LESSON] = lesson
    ss[LESSON_NAME] = name
    ss[REVEALED] = set()
    ss[LESSON_STEP] = min(max(step, 0), len(lesson.steps) - 1)
    if apply:
        go_to(ss[LESSON_STEP])


@guarded
def close_lesson() -> None:
    for key in (LESSON, LESSON_NAME, LESSON_STEP, REVEALED):
        ss.pop(key, None)


@guarded
def reveal(index: int) -> None:
    ss.setdefault(REVEALED, set()).add(int(index))


def revealed(index: int) -> bool:
    return int(index) in ss.get(REVEALED, set())


def read_lesson_address() -> None:
    """Once per session, after the link's state was read: the lesson it opens, at its step. A link that
    holds nothing else sets the views to the step's state; one that holds more (a student's copied link)
    keeps its own."""
    if ss.get(READ):
        return
    ss[READ] = True
    params = st.query_params.to_dict()
    link = parse_lesson_link(params)
    problems = list(link.notes)
    ss[PRESENT] = link.present
    if link.opens_lesson:
        try:
            if link.name is not None:
                lesson = read_shipped(link.name, step_views(), list(models_here()))
            else:
                lesson = lesson_from_link(link.packed or "", step_views(), list(models_here()))
        except LessonError as exc:
            problems += [f"the lesson did not open: {line}" for line in exc.problems[:5]]
        else:
            if link.step >= len(lesson.steps):
                problems.append(f"step={link.step + 1} is past the lesson's {len(lesson.steps)} steps")
            only_lesson = not (set(params) - {"lesson", "lesson_text", "step", "present"})
            open_lesson(lesson, link.name, link.step, apply=only_lesson)
    if problems:
        ss[PROBLEMS] = problems


def sync_lesson_link() -> None:
    """The lesson's part of the address (written with the rest by explorer.state.links.write_address)."""
    opened = current_lesson()
    present = bool(ss.get(PRESENT))
    if opened is None:
        ss[LESSON_LINK] = LessonLink(present=present) if present else None
        return
    lesson, index = opened
    name = ss.get(LESSON_NAME)
    packed = None if name else packed_lesson(lesson)
    ss[LESSON_LINK] = LessonLink(name=name, packed=packed, step=index, present=present)


@lru_cache(maxsize=64)  # a Lesson is frozen and hashable
def _packed(lesson: Lesson) -> str | None:
    return lesson_to_link(lesson)


def packed_lesson(lesson: Lesson) -> str | None:
    """The lesson carried whole in a link (None past what a link can carry)."""
    return _packed(lesson)
