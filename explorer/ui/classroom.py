"""The "Send to the class" button the views show while this session is in a class."""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.service.classroom import SENT, joined, send
from explorer.state.session import guarded, ss
from explorer.ui.widgets import guarded_fragment
from explorer.words.plain import plain


@guarded
def _send(kind: str, payload: dict[str, Any]) -> None:
    send(kind, payload)


def send_to_class(kind: str, payload: dict[str, Any], key: str, label: str = "Send this to the class") -> None:
    """A button that sends `payload` as a `kind` entry, and the last send's outcome; nothing outside a class."""
    if joined() is None:
        return
    _send_box(kind, payload, key, label)


@guarded_fragment("class")  # a send reruns the button and its outcome, not the view around them
def _send_box(kind: str, payload: dict[str, Any], key: str, label: str) -> None:
    st.button(label, on_click=_send, args=(kind, payload), key=key, icon=":material/send:")
    if message := ss.pop(SENT, None):
        st.caption(plain(message))
