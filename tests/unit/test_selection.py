"""What was picked on the Plotly map, from `st.plotly_chart(on_select=...)` event dicts."""

from __future__ import annotations

import pytest

from explorer.state.selection import assign_end, selected_rows


def event(*points: dict, box: list | None = None) -> dict:
    """The shape Streamlit returns: {"selection": {"points", "point_indices", "box", "lasso"}}."""
    return {
        "selection": {
            "points": list(points),
            "point_indices": [p.get("point_index", 0) for p in points],
            "box": box or [],
            "lasso": [],
        }
    }


def point(customdata: object = None, curve: int = 0, index: int = 0, x: float = 0.5, y: float = -1.5) -> dict:
    p = {"curve_number": curve, "point_number": index, "point_index": index, "x": x, "y": y}
    if customdata is not None:
        p["customdata"] = customdata
    return p


def test_customdata_as_list_and_as_scalar() -> None:
    picked = event(point([17, "7"], curve=7, index=0), point(42, curve=2, index=0), point([3.0], curve=1, index=5))
    assert selected_rows(picked) == [17, 42, 3]


def test_point_index_is_not_trusted() -> None:
    # two traces, both point_index 0: only customdata tells the rows apart
    assert selected_rows(event(point([900], curve=0, index=0), point([901], curve=1, index=0))) == [900, 901]


def test_duplicates_keep_the_first_order() -> None:
    assert selected_rows(event(point([5]), point(9), point([5]), point(9), point([1]))) == [5, 9, 1]


def test_points_without_usable_customdata_are_skipped() -> None:
    picked = event(point(), point([]), point([None]), point(["not a row"]), point({"row": 3}), point([12]))
    assert selected_rows(picked) == [12]


def test_string_row_ids() -> None:
    assert selected_rows(event(point("8"), point(["11"]))) == [8, 11]


@pytest.mark.parametrize(
    "empty",
    [
        None,
        {},
        {"selection": None},
        {"selection": {}},
        {"selection": {"points": []}},
        event(),
        event(box=[{"x": [0, 1]}]),
    ],
)
def test_empty_events(empty: dict | None) -> None:
    assert selected_rows(empty) == []


def test_picks_set_the_named_end_and_alternate() -> None:
    pair, end = [0, 1], "A"
    pair, end = assign_end(pair, end, 10)
    assert (pair, end) == ([10, 1], "B")
    pair, end = assign_end(pair, end, 20)
    assert (pair, end) == ([10, 20], "A")
    assert assign_end(pair, "B", 30) == ([10, 30], "A")  # the user chose B: A stays


def test_assign_end_does_not_change_its_argument() -> None:
    pair = [1, 2]
    assign_end(pair, "A", 3)
    assert pair == [1, 2]


def test_a_full_click_sequence_from_events() -> None:
    pair, end = [0, 1], "A"
    for row in (4, 8, 15):
        pair, end = assign_end(pair, end, selected_rows(event(point([row])))[0])
    assert (pair, end) == ([15, 8], "B")
