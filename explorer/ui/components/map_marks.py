"""Picked digits marked over a Plotly map with their pictures, drawn in the page (see map_marks.js for why
they are not part of the figure: a changed figure loses the user's zoom)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explorer.ui.components.mount import register
from explorer.ui.pictures import png_data_uri
from vae.images import as_uint8

_MARKS = register("vae_map_marks", "map_marks", decoder=False)


def map_marks(chart_key: str, coords: np.ndarray, images: np.ndarray, marks: Sequence[tuple[str, int]]) -> None:
    """Marks (label, test row) on the chart whose st.plotly_chart key is `chart_key`."""
    _draw(
        chart_key,
        [
            {
                "label": label,
                "row": int(row),
                "x": float(coords[row, 0]),
                "y": float(coords[row, 1]),
                "picture": png_data_uri(as_uint8(images[row])[0], scale=2),
            }
            for label, row in marks
        ],
    )


def your_digit_mark(chart_key: str, place: Sequence[float], pixels: np.ndarray) -> None:
    """The visitor's own digit (28×28 in [0, 1]) at its place (x, y) on the chart `chart_key`."""
    mark = {
        "label": "★",
        "row": None,
        "x": float(place[0]),
        "y": float(place[1]),
        "picture": png_data_uri(as_uint8(pixels)[0], scale=2),
        "alt": "your digit, at its code's place on the map",
    }
    _draw(chart_key, [mark])


def _draw(chart_key: str, marks: list[dict[str, object]]) -> None:
    _MARKS(key=f"marks:{chart_key}", data={"chart": chart_key, "marks": marks}, height=0)
