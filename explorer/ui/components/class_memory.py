"""The browser keeps the class this session teaches or joined (see class_memory.js): a reload, or a phone
asleep past the server's session timeout, takes it back instead of leaving a teacher without the board
and a student out of the class. Mounted on every view."""

from __future__ import annotations

import streamlit as st

from explorer.service.classroom import kept_in_browser, restore, settled
from explorer.ui.components.mount import register

_MEMORY = register("vae_class_memory", "class_memory", decoder=False)
KEY = "class_memory"


def _kept() -> None:
    restore((st.session_state.get(KEY) or {}).get("kept"))


def class_memory() -> None:
    _MEMORY(key=KEY, data={"keep": kept_in_browser(), "ask": not settled()}, height=0, on_kept_change=_kept)
