"""The progress of a session model's map while it is built, shown where the map will be."""

from __future__ import annotations

import streamlit as st

from explorer.service.jobs import map_status
from explorer.ui.widgets import error_boundary, still_progress

MAP_PROGRESS_KEY = "train_map_progress"


@st.fragment(run_every=1.0)
def map_progress(key: str) -> None:
    with error_boundary("train map"):
        _, share = map_status(key)
        if share is None:  # ready (or failed): the whole page, so the picker hands the views the map
            st.rerun()
        st.container(key=MAP_PROGRESS_KEY).progress(
            share, text=f"Building its map of the 10,000 test codes: {share:.0%}"
        )


def waiting_for_map(key: str) -> bool:
    """For a model trained in this session whose map is being built: show the progress, say True."""
    _, share = map_status(key)
    if share is None:
        return False
    st.html(still_progress(MAP_PROGRESS_KEY))
    map_progress(key)
    return True
