"""The latent pad: two latent coordinates as a square the pointer explores, decoded live in the page.

For a 2-D model it is the latent plane itself; for more dimensions a slice through the current code
(the other coordinates held), with the test codes projected onto it. A click pins a point: the server
hears it once (on_pin), e.g. to offer "send to the sliders".
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import streamlit as st

from explorer.ui.components.mount import finite_code, first_time, register, resend, weights_once
from explorer.ui.components.weak_cache import while_alive
from vae.atlas import Atlas
from vae.codes import plane_extent
from vae.model import LatentModel

_PAD = register("vae_latent_pad", "latent_pad")
IDLE_HINT = "move the pointer over the plane or the grid (or Tab to it and use the arrow keys)"


def packed_points(x: np.ndarray, y: np.ndarray, digits: np.ndarray) -> dict[str, str]:
    """Test codes projected on the pad: float16 x and y, int8 digit labels, base64 (about 67 kB for 10,000),
    and an id (a hash of them): the page keeps them by id, so a session is sent each set once."""

    def b64(array: np.ndarray, dtype: str) -> str:
        return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")

    packed = {"x": b64(x, "<f2"), "y": b64(y, "<f2"), "digits": b64(digits, "i1")}
    packed["id"] = "p" + hashlib.sha1("".join(packed.values()).encode("ascii")).hexdigest()[:12]
    return packed


def points_once(points: dict[str, str] | None) -> dict[str, str] | None:
    """The points for the page: all of them the first time this session sends them, later only their id."""
    if points is None or first_time(points["id"]):
        return points
    return {"id": points["id"]}


@while_alive  # atlases are never modified: their identity is a fine key; a session's go with it
def seen_from(atlas: Atlas, dims: tuple[int, int]) -> tuple[dict[str, str], float]:
    """The test codes seen from coordinates `dims`, packed for the pad, and the pad's half-width: once per
    atlas and pair, not on every run of the view."""
    mu = np.asarray(atlas.mu[:, list(dims)], dtype=np.float32)
    return packed_points(mu[:, 0], mu[:, 1], atlas.labels), plane_extent(mu)


def parse_pin(value: object) -> list[float] | None:
    """The page's pinned [x, y], or None if it is not two finite numbers."""
    return finite_code(value, 2)


def _pinned(key: str, on_pin: Callable[[list[float]], None]) -> None:
    point = parse_pin((st.session_state.get(key) or {}).get("pin"))
    if point is not None:
        on_pin(point)


def latent_pad(
    model: LatentModel,
    dims: tuple[int, int],
    base: Sequence[float],
    extent: float,
    points: dict[str, str] | None,
    colours: Sequence[str],
    on_pin: Callable[[list[float]], None],
    key: str,
    pinned: Sequence[float] | None = None,
    steps: int = 15,
    captions: tuple[str, str] = ("the latent plane: test codes μ, coloured by digit", "the decoder's view"),
    follow_sliders: bool = False,
) -> None:
    """The pad over coordinates dims = (i, j) of `base` within ±extent; points from packed_points().
    follow_sliders: the page's latent sliders of the same model move `base` in the page as they move (a
    slice through their code), so a slider's commit need not redraw the pad from the server."""
    model_id, weights = weights_once(model)
    _PAD(
        key=key,
        data={
            "model": model_id,
            "weights": weights,
            "dims": [int(dims[0]), int(dims[1])],
            "axis_labels": [f"z{dims[0]}", f"z{dims[1]}"],
            "base": [float(v) for v in base],
            "extent": float(extent),
            "points": points_once(points),
            "colours": list(colours),
            "pinned": [float(v) for v in pinned] if pinned is not None else None,
            "steps": int(steps),
            "plane_caption": captions[0],
            "grid_caption": captions[1],
            "idle_hint": IDLE_HINT,
            "follow": bool(follow_sliders),
        },
        on_pin_change=partial(_pinned, key, on_pin),
        on_need_weights_change=partial(resend, key, "need_weights"),
        on_need_points_change=partial(resend, key, "need_points"),
    )
