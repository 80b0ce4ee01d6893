"""Plotly figures under a finger: one tap picks the tapped point, a swipe scrolls the page, and a "Pan and
zoom" toggle on each figure (touch screens only) gives one-finger pan and pinch zoom instead (see
figure_touch.js). Mounted once per view; it installs itself once per page."""

from __future__ import annotations

from explorer.ui.components.mount import register

_TOUCH = register("vae_figure_touch", "figure_touch", decoder=False)


def figure_touch() -> None:
    _TOUCH(key="figure_touch", data={}, height=0)
