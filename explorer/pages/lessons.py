"""Lessons: the operator's lessons (lessons/*.toml) to open, a lesson file to upload, and a lesson to write
here: "Add this view as a step" (in the sidebar, on any view) captures what the view shows; the steps are
captioned, reordered and deleted here, then downloaded, opened, or sent as a link."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from explorer.context import Context
from explorer.jobs.heavy_work import heavy_work
from explorer.service.resources import cached_test_set, model_at
from explorer.state.lesson_session import (
    current_lesson,
    models_here,
    open_lesson,
    packed_lesson,
    step_views,
    view_titles,
)
from explorer.state.lessons import (
    MAX_BYTES,
    MAX_CAPTION,
    MAX_QUESTION,
    MAX_STEPS,
    MAX_TITLE,
    Lesson,
    LessonError,
    Step,
    lesson_toml,
    parse_lesson,
    problem_lines,
    read_shipped,
    shipped_lessons,
    state_of,
)
from explorer.state.links import link_params, link_state, model_names
from explorer.state.session import CURRENT_VIEW, guarded, ss
from explorer.state.url import parse_link
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae.model import LatentModel

LOOK_FOR = LookFor(
    "Open the week-8 lesson to be walked through the lecture, or write your own: go to a view, set it up, "
    "press “Add this view as a step” in the sidebar, and caption it here."
)

DRAFT = "lesson_draft"  # the lesson being written: {"title": str, "steps": [{"id", "view", "state", ...}]}
DRAFT_IDS = "lesson_draft_ids"
UPLOAD = "lesson_upload"
HANDOUT = "lesson_handout"  # (title, PDF bytes) of the last handout made in this session
UPLOAD_PROBLEMS = "lesson_upload_problems"
FIELDS = {"caption": MAX_CAPTION, "question": MAX_QUESTION, "answer": MAX_QUESTION}


def draft() -> dict:
    return ss.setdefault(DRAFT, {"title": "My lesson", "steps": []})


def _new_id() -> int:
    ss[DRAFT_IDS] = ss.get(DRAFT_IDS, 0) + 1
    return ss[DRAFT_IDS]


def captured_state(ctx: Context):
    """What a link to the view on screen would hold, as a step's state (the model always named)."""
    now, defaults = link_state(ctx)
    params = link_params(now, defaults)
    if now.model is not None:
        params["model"] = now.model
    return parse_link(params, list(models_here()))


@guarded
def add_this_view(ctx: Context) -> None:
    view = ss.get(CURRENT_VIEW)
    steps = draft()["steps"]
    if view not in step_views():
        st.toast("Go to a view first, set it up, then add it as a step.", icon=":material/block:")
        return
    if len(steps) >= MAX_STEPS:
        st.toast(f"A lesson has at most {MAX_STEPS} steps.", icon=":material/block:")
        return
    state = captured_state(ctx)
    steps.append({"id": _new_id(), "view": view, "state": state, "caption": "", "question": "", "answer": ""})
    left_out = " (your own model cannot go into a lesson: the step names none)" if state.model is None else ""
    st.toast(f"Step {len(steps)} added: {view_titles().get(view, view)}{left_out}. Caption it in Lessons.")


def add_step_button(ctx: Context) -> None:
    """In the sidebar of every view."""
    count = len(draft()["steps"])
    st.sidebar.button(
        "Add this view as a step",
        key="lesson_add_step",
        on_click=add_this_view,
        args=(ctx,),
        icon=":material/add_box:",
        help="Captures this view as it is now (model, digits, code, seed, epoch…) as the next step of the "
        f"lesson you write on the Lessons page (it has {count} step{'s' if count != 1 else ''}).",
    )


@guarded
def keep_field(step_id: int, field: str) -> None:
    for step in draft()["steps"]:
        if step["id"] == step_id:
            step[field] = ss.get(f"draft_{field}_{step_id}") or ""


@guarded
def keep_title() -> None:
    draft()["title"] = ss.get("draft_title") or ""


@guarded
def move(step_id: int, by: int) -> None:
    steps = draft()["steps"]
    index = next(i for i, s in enumerate(steps) if s["id"] == step_id)
    other = min(max(index + by, 0), len(steps) - 1)
    steps[index], steps[other] = steps[other], steps[index]


@guarded
def delete(step_id: int) -> None:
    draft()["steps"] = [s for s in draft()["steps"] if s["id"] != step_id]


@guarded
def edit_copy(lesson: Lesson) -> None:
    """Puts a lesson into the editor (the draft it replaces is lost)."""
    steps = [
        {
            "id": _new_id(),
            "view": s.view,
            "state": s.state,
            "caption": s.caption,
            "question": s.question,
            "answer": s.answer,
        }
        for s in lesson.steps
    ]
    ss[DRAFT] = {"title": lesson.title, "steps": steps}
    ss.pop("draft_title", None)


def drafted_lesson() -> Lesson:
    d = draft()
    steps = tuple(Step(s["view"], s["state"], s["caption"], s["question"], s["answer"]) for s in d["steps"])
    return Lesson(title=d["title"], steps=steps)


@guarded
def open_shipped(name: str) -> None:
    try:
        lesson = read_shipped(name, step_views(), list(models_here()))
    except LessonError as exc:
        ss[UPLOAD_PROBLEMS] = problem_lines(exc)
        return
    open_lesson(lesson, name)


@guarded
def open_drafted() -> None:
    lesson = drafted_lesson()
    parse_lesson(lesson_toml(lesson), step_views(), list(models_here()))  # checked as a file would be
    open_lesson(lesson, None)


@guarded
def take_lesson_file() -> None:
    upload = ss.get(UPLOAD)
    if upload is None:
        return
    try:
        lesson = parse_lesson(upload.getvalue(), step_views(), list(models_here()))
    except LessonError as exc:
        ss[UPLOAD_PROBLEMS] = problem_lines(exc)
        return
    open_lesson(lesson, None)


def file_name(title: str) -> str:
    return (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "lesson") + ".toml"


def shipped_list() -> None:
    st.subheader("Lessons on this server", divider="gray")
    names = shipped_lessons()
    if not names:
        st.caption("The operator can put lesson files in the lessons/ folder; there are none yet.")
    for name in names:
        try:
            lesson = read_shipped(name, step_views(), list(models_here()))
        except LessonError as exc:
            st.warning(f"{plain(name)}.toml does not open: " + "; ".join(plain(p) for p in problem_lines(exc)))
            continue
        with st.container(border=True):
            st.markdown(f"**{plain(lesson.title)}** · {len(lesson.steps)} steps")
            if lesson.about:
                st.caption(plain(lesson.about, 300))
            with st.container(horizontal=True):
                st.button("Open", key=f"open_{name}", on_click=open_shipped, args=(name,), icon=":material/school:")
                st.button("Edit a copy", key=f"copy_{name}", on_click=edit_copy, args=(lesson,), icon=":material/edit:")
            st.caption(
                f"Its link: this app's address followed by ?lesson={name}&step=1 (add &present=1 for a projector)."
            )


def upload_section() -> None:
    st.subheader("Open a lesson file", divider="gray")
    st.file_uploader(
        f"A lesson file (.toml, at most {MAX_BYTES // 1024} kB): it opens for your session only",
        type=["toml", "txt"],
        key=UPLOAD,
        on_change=take_lesson_file,
        max_upload_size=1,
    )
    if problems := ss.pop(UPLOAD_PROBLEMS, None):
        st.error("This file is not a lesson:\n\n" + "\n".join(f"- {plain(line)}" for line in problems))


def draft_field(widget: Callable[..., Any], label: str, step: dict, field: str, limit: int, **extra: Any) -> None:
    """One text field of a draft step, kept in the draft as it is typed (keep_field)."""
    sid = step["id"]
    widget(
        label,
        value=step[field],
        key=f"draft_{field}_{sid}",
        max_chars=limit,
        on_change=keep_field,
        args=(sid, field),
        **extra,
    )


def step_editor(number: int, step: dict, last: bool) -> None:
    sid = step["id"]
    title = view_titles().get(step["view"], step["view"])
    state = ", ".join(f"{k}={v}" for k, v in state_of(Step(step["view"], step["state"], "")).items()) or "defaults"
    with st.container(border=True, key=f"draft_step_{sid}"):
        st.markdown(f"**Step {number}: {plain(title)}** · {plain(state, 160)}")
        draft_field(st.text_area, "Caption (Markdown and $maths$; no HTML)", step, "caption", MAX_CAPTION, height=100)
        q, a = st.columns(2)
        draft_field(q.text_input, "Question before the reveal (optional)", step, "question", MAX_QUESTION)
        draft_field(a.text_input, "Its answer (optional)", step, "answer", MAX_QUESTION)
        with st.container(horizontal=True):
            st.button(
                "Up",
                key=f"draft_up_{sid}",
                on_click=move,
                args=(sid, -1),
                disabled=number == 1,
                icon=":material/arrow_upward:",
            )
            st.button(
                "Down",
                key=f"draft_down_{sid}",
                on_click=move,
                args=(sid, 1),
                disabled=last,
                icon=":material/arrow_downward:",
            )
            st.button("Delete", key=f"draft_delete_{sid}", on_click=delete, args=(sid,), icon=":material/delete:")


def authoring() -> None:
    st.subheader("Write a lesson", divider="gray")
    d = draft()
    st.caption(
        "Go to any view, set it up as you want the students to see it, and press “Add this view as a step” in the "
        "sidebar. Then caption the steps here, reorder them, and download the file or open the lesson and copy "
        "its link."
    )
    st.text_input("Title", value=d["title"], key="draft_title", max_chars=MAX_TITLE, on_change=keep_title)
    steps = d["steps"]
    if not steps:
        st.info("No steps yet: add one from any view with “Add this view as a step” in the sidebar.")
        return
    for number, step in enumerate(steps, start=1):
        step_editor(number, step, number == len(steps))
    lesson = drafted_lesson()
    try:
        parse_lesson(lesson_toml(lesson), step_views(), list(models_here()))
    except LessonError as exc:
        st.warning("Before it can be saved: " + "; ".join(plain(line) for line in problem_lines(exc)))
        return
    with st.container(horizontal=True):
        st.download_button(
            "Download the lesson file",
            lesson_toml(lesson),
            file_name(lesson.title),
            "application/toml",
            icon=":material/download:",
            key="draft_download",
        )
        st.button("Open this lesson", key="draft_open", on_click=open_drafted, icon=":material/play_arrow:")
    if packed_lesson(lesson) is None:
        st.caption("This lesson is too long to travel in a link: send the file, which students open here.")
    else:
        st.caption("Open it, then “Copy link to this view” in the sidebar: the link carries the whole lesson.")


def open_lesson_section(ctx: Context) -> None:
    opened = current_lesson()
    if opened is None:
        return
    lesson, _ = opened
    st.subheader("The open lesson", divider="gray")
    with st.container(horizontal=True):
        st.download_button(
            "Download its file",
            lesson_toml(lesson),
            file_name(lesson.title),
            "application/toml",
            icon=":material/download:",
            key="open_download",
        )
        st.button("Edit a copy", key="open_edit", on_click=edit_copy, args=(lesson,), icon=":material/edit:")
        st.button("Make a handout (PDF)", key="handout_make", on_click=make_handout, args=(ctx, lesson))
    made = ss.get(HANDOUT)
    if made is not None and made[0] == lesson.title:
        st.download_button(
            "Download the handout: a page per step",
            made[1],
            file_name(lesson.title).removesuffix(".toml") + "_handout.pdf",
            "application/pdf",
            icon=":material/download:",
            key="handout_download",
        )


@guarded
def make_handout(ctx: Context, lesson: Lesson) -> None:
    from explorer.ui.handout import handout_pdf

    paths = model_names(ctx.listing)

    def model_for(name: str | None) -> LatentModel:
        return model_at(paths[name]) if name in paths else ctx.model

    with heavy_work("making a handout"):
        ss[HANDOUT] = (lesson.title, handout_pdf(lesson, model_for, cached_test_set().images))


def render(ctx: Context) -> None:
    shipped_list()
    upload_section()
    open_lesson_section(ctx)
    authoring()
