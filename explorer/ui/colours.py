"""One colour per digit, shared by the Plotly maps and the in-page latent pad (no Plotly import here)."""

from __future__ import annotations

DIGIT_COLOURS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
