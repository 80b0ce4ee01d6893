"""VAE Latent Explorer: see what a variational autoencoder learns on MNIST (NYU Deep Learning, week 8).

Run with `streamlit run app.py`. This file is the entry only: page config, the model picker and the
navigation between the views. The app lives in explorer/ (one module per view in explorer/pages/),
everything it computes in the vae/ library. Plotly and the drawing canvas are imported inside the
views that use them, so the first page shows up fast.
"""

from __future__ import annotations

import streamlit as st

from explorer.pages.lessons import add_step_button
from explorer.service.jobs import janitor, session_id
from explorer.service.resources import LOG
from explorer.service.sockets import send_without_delay
from explorer.settings import SettingsError, settings
from explorer.state.lesson_session import read_lesson_address
from explorer.state.links import apply_address_code, copy_link_button, read_address, write_address
from explorer.ui.lesson_bar import presenter_toggle
from explorer.ui.model_picker import model_picker
from explorer.ui.navigation import navigate
from explorer.words.app import APP_TITLE, INTRO, NO_MODEL, TAGLINE, friendly_error
from vae.paths import checkpoint_dir

st.set_page_config(page_title=APP_TITLE, page_icon="🔢", layout="wide")


def main() -> None:
    st.sidebar.title(APP_TITLE)
    st.sidebar.caption(TAGLINE)
    try:
        settings()
    except SettingsError as exc:  # scripts/start.sh stops before this; a server started otherwise says it here
        st.error(f"This server's settings need fixing: {exc}", icon=":material/settings:")
        return
    send_without_delay()  # once per process: every interaction's reply leaves at once
    session_id()  # counted among the connected sessions, whatever view it opens (training gives them cores)
    janitor()  # the server's: deletes what gone sessions left
    try:
        read_address()  # a link's state, once per session
        read_lesson_address()  # and the lesson it opens, at its step
        ctx = model_picker()
    except Exception as exc:  # e.g. an unreadable checkpoint folder: a message, not a traceback
        LOG.exception("model picker failed")
        st.error(friendly_error(exc))
        return
    if ctx is None:
        st.title(APP_TITLE)
        st.markdown(INTRO)
        st.info(NO_MODEL.format(folder=checkpoint_dir()))
        return
    apply_address_code(ctx)
    copy_link_button(ctx)
    presenter_toggle()
    add_step_button(ctx)
    navigate(ctx)
    write_address(ctx)  # the address says what the page shows: a reload or a copied link brings it back


main()
