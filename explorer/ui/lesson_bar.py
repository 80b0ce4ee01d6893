"""The lesson bar above every view while a lesson is open: the step's caption, its question and the reveal,
back and next, and a way back to the step's own state after playing. In presenter mode the page's type is
large, the sidebar hidden, and the arrow keys step through the lesson."""

from __future__ import annotations

import streamlit as st

from explorer.state.lesson_session import (
    PRESENT,
    PROBLEMS,
    close_lesson,
    current_lesson,
    go_to,
    reveal,
    revealed,
    view_titles,
)
from explorer.state.lessons import safe_markdown, step_counter
from explorer.state.session import guarded, ss
from explorer.words.plain import plain

BAR = "lesson_bar"
CAPTION = "lesson_caption"
NEXT, BACK = "lesson_next", "lesson_back"

# Presenter mode: large type and pictures for a projector, the sidebar out of the way.
PRESENTER_CSS = f"""<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {{ display: none !important; }}
.stMain p, .stMain li, .stMain label, .stMain button {{ font-size: 1.35rem !important; }}
.stMain .block-container {{ max-width: 100% !important; padding-left: 2rem; padding-right: 2rem; }}
.st-key-{CAPTION} p, .st-key-{CAPTION} li {{ font-size: 2rem !important; line-height: 1.35 !important; }}
.stMain [data-testid="stImage"] img {{ image-rendering: pixelated; min-width: 6rem; }}
</style>"""

# The arrow keys press the bar's own buttons (outside a text box): the same callbacks as a click.
_KEYS = st.components.v2.component(
    "vae_lesson_keys",
    html="<span></span>",
    js=f"""
export default function () {{
  const press = (event) => {{
    const target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const key = {{ ArrowRight: "{NEXT}", ArrowLeft: "{BACK}", PageDown: "{NEXT}", PageUp: "{BACK}" }}[event.key];
    const button = key && document.querySelector(`.st-key-${{key}} button`);
    if (button && !button.disabled) {{
      event.preventDefault();
      button.click();
    }}
  }};
  document.addEventListener("keydown", press);
  return () => document.removeEventListener("keydown", press);
}}
""",
)


@guarded
def leave_presenter() -> None:
    ss[PRESENT] = False


def presenter_toggle() -> None:
    """The sidebar's switch (a link's present=1 sets it too)."""
    ss.setdefault(PRESENT, False)
    st.sidebar.toggle("Presenter mode", key=PRESENT, help="For a projector: large type, no sidebar, arrow keys step.")


def lesson_bar(view: str) -> bool:
    """Draws the bar for the open lesson (if any); True when the view should wait for the student's
    prediction (the step asks a question, unrevealed, and this is the step's view)."""
    if ss.get(PRESENT):
        st.html(PRESENTER_CSS)
        st.button("Leave presenter mode", key="leave_present", on_click=leave_presenter, icon=":material/close:")
    if problems := ss.pop(PROBLEMS, None):
        st.warning("; ".join(plain(line) for line in problems))
    opened = current_lesson()
    if opened is None:
        return False
    lesson, index = opened
    step = lesson.steps[index]
    total = len(lesson.steps)
    held = False
    with st.container(border=True, key=BAR):
        st.markdown(f"**{plain(lesson.title)}** · {step_counter(index, total)}")
        st.progress((index + 1) / total)
        with st.container(key=CAPTION):
            st.markdown(safe_markdown(step.caption))
        if step.question:
            st.markdown(f"**{plain(step.question, 300)}**")
            if revealed(index):
                if step.answer:
                    st.success(safe_markdown(step.answer), icon=":material/lightbulb:")
            else:
                st.text_input("Your prediction (for you: not sent anywhere)", key=f"lesson_guess_{index}")
                st.button("Show me", key="lesson_reveal", on_click=reveal, args=(index,), type="primary")
                held = view == step.view
        with st.container(horizontal=True):
            st.button(
                "Back", key=BACK, on_click=go_to, args=(index - 1,), disabled=index == 0, icon=":material/arrow_back:"
            )
            st.button(
                "Next",
                key=NEXT,
                on_click=go_to,
                args=(index + 1,),
                disabled=index == total - 1,
                icon=":material/arrow_forward:",
            )
            st.button(
                "Back to this step's view",
                key="lesson_again",
                on_click=go_to,
                args=(index,),
                icon=":material/restart_alt:",
                help="Puts the view back as the step set it, after you played with it.",
            )
            st.button("Close the lesson", key="lesson_close", on_click=close_lesson, icon=":material/close:")
        if view != step.view:
            title = view_titles().get(step.view, step.view)
            st.caption(f"This step is on the “{title}” view: “Back to this step's view” takes you there.")
        _KEYS(key="lesson_keys", height=0)
    if held:
        st.info("Make your prediction, then press “Show me” to see the view.", icon=":material/psychology:")
    return held
