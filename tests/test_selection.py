"""What was picked on the Plotly map, from `st.plotly_chart(on_select=...)` event dicts."""

from __future__ import annotations

import math

import pytest

from explorer.selection import clicked_point, selected_rows, update_pair


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
    assert clicked_point(empty) is None


def test_update_pair_fills_then_pushes_out_the_older() -> None:
    pair: list[int] = []
    pair = update_pair(pair, [10])
    assert pair == [10]
    pair = update_pair(pair, [20])
    assert pair == [10, 20]
    pair = update_pair(pair, [30])
    assert pair == [20, 30]
    pair = update_pair(pair, [40, 50])
    assert pair == [40, 50]


def test_update_pair_ignores_repeats() -> None:
    assert update_pair([10, 20], [20]) == [10, 20]
    assert update_pair([10, 20], [10]) == [10, 20]
    assert update_pair([10, 20], [10, 30]) == [20, 30]
    assert update_pair([10], [10, 10]) == [10]
    assert update_pair([], []) == []


def test_update_pair_does_not_change_its_argument() -> None:
    pair = [1, 2]
    update_pair(pair, [3])
    assert pair == [1, 2]


def test_a_full_click_sequence_from_events() -> None:
    pair: list[int] = []
    for row in (4, 4, 8, 15, 8):
        pair = update_pair(pair, selected_rows(event(point([row]))))
    assert pair == [8, 15]


def test_clicked_point() -> None:
    assert clicked_point(event(point([1], x=0.25, y=-2.0))) == (0.25, -2.0)
    assert clicked_point(event(point([1], x=3, y=4), point([2], x=5, y=6))) == (3.0, 4.0)


def test_clicked_point_skips_unusable_points() -> None:
    no_y = point([1])
    del no_y["y"]
    picked = event(no_y, point([2], x=math.nan, y=1.0), point([3], x="a", y=1.0), point([4], x=math.inf, y=0.0))
    assert clicked_point(picked) is None
    assert clicked_point(event(point([2], x=math.nan, y=1.0), point([5], x=1.5, y="2.5"))) == (1.5, 2.5)
