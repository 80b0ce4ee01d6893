"""One colour and one marker shape per digit, shared by the Plotly maps and the in-page latent pad (no Plotly
import here).

The colours are Paul Tol's "muted" scheme and black: every pair stays apart (ΔE*ab ≥ 15) under the common
colour-vision deficiencies, protanopia, deuteranopia and tritanopia, as simulated by Machado et al. (2009)
(tests/unit/test_colours.py checks it). Matplotlib's tab10, used before, put 1 and 2 at ΔE 4.6 for protanopia
and 1 and 8 at 7.2 for deuteranopia. The shapes tell the digits apart without colour at all (the maps' legends
show them, and the hover and a tap name the digit in words)."""

from __future__ import annotations

DIGIT_COLOURS: tuple[str, ...] = (
    "#332288",  # 0 indigo
    "#88ccee",  # 1 cyan
    "#44aa99",  # 2 teal
    "#117733",  # 3 green
    "#999933",  # 4 olive
    "#ddcc77",  # 5 sand
    "#cc6677",  # 6 rose
    "#882255",  # 7 wine
    "#aa4499",  # 8 purple
    "#000000",  # 9 black
)

# Plotly marker symbols (all drawn by Scattergl), one per digit.
DIGIT_SYMBOLS: tuple[str, ...] = (
    "circle",
    "square",
    "diamond",
    "cross",
    "x",
    "triangle-up",
    "triangle-down",
    "star",
    "hexagon",
    "pentagon",
)
