"""What the user picked on a Plotly map, as test-set row ids.

With one trace per digit colour, Plotly's point_index counts within a trace, so every point carries
its row id in customdata and only that is trusted here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def selected_rows(event: Mapping[str, Any] | None) -> list[int]:
    """Row ids of the points in a `st.plotly_chart(on_select=...)` event, in order, without repeats."""
    if not event:
        return []
    selection = event.get("selection") or {}
    rows: list[int] = []
    for point in selection.get("points") or []:
        custom = point.get("customdata")
        if isinstance(custom, list | tuple):
            custom = custom[0] if custom else None
        if custom is None:
            continue
        try:
            row = int(custom)
        except (TypeError, ValueError):
            continue
        if row not in rows:
            rows.append(row)
    return rows


def update_pair(pair: list[int], clicked: list[int]) -> list[int]:
    """The two digits to morph after a click: a new digit pushes out the older of the two."""
    result = list(pair)
    for row in clicked:
        if row in result:
            continue
        result = [*result, row][-2:]
    return result


def clicked_point(event: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """The (x, y) of the first clicked point in a selection event: on a 2-D model's plane, a code.

    None when nothing usable was clicked (no points, or coordinates that are not finite numbers).
    """
    if not event:
        return None
    points = (event.get("selection") or {}).get("points") or []
    for point in points:
        try:
            x, y = float(point["x"]), float(point["y"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            return x, y
    return None
