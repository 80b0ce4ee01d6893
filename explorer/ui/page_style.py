"""The page-wide stylesheet (explorer/ui/page.css) and the figures' touch layer, put on every view."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

from explorer.ui.components.figure_touch import figure_touch

CSS = Path(__file__).with_name("page.css")


@cache
def _style() -> str:
    return f"<style>{CSS.read_text()}</style>"


def page_style() -> None:
    st.html(_style())
    figure_touch()
