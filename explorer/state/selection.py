"""What the user picked on a Plotly map, as test-set row ids.

With one trace per digit colour, Plotly's point_index counts within a trace, so every point carries
its row id in customdata and only that is trusted here.
"""

from __future__ import annotations

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


def assign_end(pair: list[int], end: str, row: int) -> tuple[list[int], str]:
    """The morph pair after a pick that sets `end` ("A" or "B") to `row`, and the end the next pick sets."""
    a, b = pair
    return ([row, b], "B") if end == "A" else ([a, row], "A")
