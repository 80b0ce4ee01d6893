"""The pages: one st.Page per view, each run inside the error boundary with the current Context."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from explorer.context import Context
from explorer.pages import VIEWS, View
from explorer.state.lesson_session import sync_lesson_link
from explorer.state.links import show_address_notes
from explorer.state.session import CALLBACK_ERROR, CURRENT_VIEW, REQUESTED_VIEW, ss
from explorer.state.session_models import session_keys
from explorer.ui.components.class_memory import class_memory
from explorer.ui.lesson_bar import lesson_bar
from explorer.ui.page_style import page_style
from explorer.ui.widgets import error_boundary
from explorer.words.app import INTRO
from explorer.words.catalog import describe
from explorer.words.plain import plain

DEFAULT_VIEW = VIEWS[0].url_path


def page_for(view: View, ctx: Context) -> StreamlitPage:
    def run() -> None:
        held = lesson_bar(view.url_path)  # a lesson's step above the view, when one is open
        page_style()  # contrast, focus, wrapping labels, touch targets; figures under a finger
        class_memory()  # a reload keeps the class this browser teaches or joined
        if view.about_picked_model:
            st.caption(f"Model: **{plain(ctx.name)}** · {plain(describe(ctx.summary))}")
        if message := ss.pop(CALLBACK_ERROR, None):
            st.error(message)
        show_address_notes()
        if view.url_path == DEFAULT_VIEW:
            st.markdown(INTRO)
        hint = view.look_for.line(ctx.has_posterior, ctx.model.latent_dim, session_model=ctx.key in session_keys())
        st.markdown(f"**What to look for:** {hint}")
        if held:  # the step's question first, then the view
            return
        with error_boundary(view.url_path):
            view.render(ctx)

    run.__name__ = f"view_{view.url_path}"  # st.Page names a callable page after its function
    return st.Page(run, title=view.title, icon=view.icon, url_path=view.url_path, default=view.url_path == DEFAULT_VIEW)


def navigate(ctx: Context) -> None:
    """Registers the pages in the sidebar, opens a view a callback asked for, then runs the current page."""
    sync_lesson_link()
    pages = {view.url_path: page_for(view, ctx) for view in VIEWS}
    current = st.navigation(list(pages.values()))
    # url_path is "" for the default page, so the current view is found by its (unique) title.
    shown = next((name for name, page in pages.items() if page.title == current.title), DEFAULT_VIEW)
    requested = ss.pop(REQUESTED_VIEW, None)
    if requested in pages and requested != shown:
        st.switch_page(pages[requested])
    ss[CURRENT_VIEW] = shown
    current.run()
