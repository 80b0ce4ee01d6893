"""Session state: its keys, and the callbacks that change it.

Callbacks run before the script, outside every view's error boundary, so each is `guarded`: a failure
becomes a message on the page (shown by app.py), never a traceback. A callback cannot switch pages
itself; it asks for a view with `request_view` and app.py switches before the page runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

import streamlit as st

from explorer.resources import LOG, cached_test_set
from explorer.selection import clicked_point, selected_rows, update_pair
from explorer.slider_values import to_slider_values
from explorer.text import friendly_error
from vae import LatentModel
from vae.codes import encode_means, fresh_seed, random_code

ss = st.session_state
P = ParamSpec("P")
CALLBACK_ERROR = "callback_error"  # a guarded callback's failure, shown once at the top of the page
REQUESTED_VIEW = "requested_view"  # a view a callback asked to open (its url path)
CURRENT_VIEW = "view"  # the url path of the view on screen, set by app.py each run
MODEL_CHOICE = "model_choice"  # the sidebar radio: a checkpoint path, a session model's key, or upload / path
ACTIVE_MODEL = "active_model"  # the model the views show (the last choice that loaded)


def slider_key(ctx_key: str, dim: int) -> str:
    """Slider state is per model: the same dimension of another model is another slider."""
    return f"z:{ctx_key}:{dim}"


def request_view(view: str) -> None:
    ss[REQUESTED_VIEW] = view


def guarded(callback: Callable[P, None]) -> Callable[P, None]:
    """Catch here, report on the page: callbacks run outside every view's error boundary."""

    @wraps(callback)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            callback(*args, **kwargs)
        except Exception as exc:
            LOG.exception("callback %s failed", callback.__name__)
            ss[CALLBACK_ERROR] = friendly_error(exc)

    return run


@guarded
def set_code(ctx_key: str, extent: float, z: list[float], view: str | None = None) -> None:
    """Write a code into the sliders of one model, optionally opening the sliders view."""
    for dim, value in enumerate(to_slider_values(z, extent)):
        ss[slider_key(ctx_key, dim)] = value
    if view:
        request_view(view)


@guarded
def randomise_code(ctx_key: str, extent: float, latent_dim: int) -> None:
    set_code(ctx_key, extent, random_code(latent_dim, fresh_seed()))


@guarded
def start_from_test_digit(ctx_key: str, extent: float, model: LatentModel) -> None:
    image = cached_test_set().images[int(ss["slider_test_index"])]
    set_code(ctx_key, extent, encode_means(model, image)[0].tolist())


@guarded
def reroll() -> None:
    ss["prior_seed"] = fresh_seed()


@guarded
def switch_model(path: str) -> None:
    ss[MODEL_CHOICE] = path


def morph_pair() -> list[int]:
    """The two digits to morph (test indices); (0, 1) until someone picks others."""
    return [int(ss.get("morph_a", 0)), int(ss.get("morph_b", 1))]


@guarded
def add_to_pair(rows: list[int]) -> None:
    ss["morph_a"], ss["morph_b"] = update_pair(morph_pair(), rows)


@guarded
def pick_pair_from_chart(chart_key: str) -> None:
    rows = selected_rows(ss.get(chart_key))
    if rows:
        add_to_pair(rows)


@guarded
def pick_pair_from_gallery(end: str) -> None:
    chosen = ss.get(f"gallery_{end}")
    if chosen is not None:
        ss[f"morph_{end}"] = int(chosen)
        ss[f"gallery_{end}"] = None  # the gallery is a one-shot picker, not a second source of truth


@guarded
def pick_on_map(chart_key: str) -> None:
    rows = selected_rows(ss.get(chart_key))
    ss["map_rows"] = rows
    if len(rows) == 1:
        ss["map_pick"] = rows[0]


@guarded
def pick_on_plane(chart_key: str) -> None:
    ss["plane_z"] = clicked_point(ss.get(chart_key))
