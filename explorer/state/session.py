"""Session state: its keys, and the callbacks that change it.

Callbacks run before the script, outside every view's error boundary, so each is `guarded`: a failure
becomes a message on the page (shown by app.py), never a traceback. A callback cannot switch pages
itself; it asks for a view with `request_view` and app.py switches before the page runs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import wraps
from typing import ParamSpec, TypeVar

import streamlit as st

from explorer.service.resources import LOG, cached_test_set
from explorer.state.selection import assign_end, selected_rows
from explorer.words.app import friendly_error
from vae import LatentModel
from vae.codes import encode_means, fresh_seed, random_code

ss = st.session_state
P = ParamSpec("P")
T = TypeVar("T")
CALLBACK_ERROR = "callback_error"  # a guarded callback's failure, shown once at the top of the page
REQUESTED_VIEW = "requested_view"  # a view a callback asked to open (its url path)
CURRENT_VIEW = "view"  # the url path of the view on screen, set by app.py each run
MODEL_CHOICE = "model_choice"  # the sidebar radio: a checkpoint path, a session model's key, or upload / path
ACTIVE_MODEL = "active_model"  # the model the views show (the last choice that loaded)
PLANE_PIN = "plane_z"  # the 2-D plane's pinned point [z0, z1], in links as p=
LESSON_LINK = "lesson_link"  # the open lesson's part of the address: a LessonLink (explorer/state/lesson_session.py)


def remembered(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """This session's value of `name`, computed again only when `key` changes. One value per name is kept:
    what the page shows, for the reruns that do not change it (a pick, a send), and no more."""
    held = ss.get(name)
    if held is not None and held[0] == key:
        return held[1]
    value = compute()  # an exception leaves the last value in place, and nothing new
    ss[name] = (key, value)
    return value


def code_key(ctx_key: str) -> str:
    """The sliders' code is per model: the same coordinate of another model means something else."""
    return f"code:{ctx_key}"


def code_seq_key(ctx_key: str) -> str:
    """The number of the page's last slider drag the server took (explorer/ui/components/latent_sliders.js)."""
    return f"code_seq:{ctx_key}"


def current_code(ctx_key: str, latent_dim: int) -> list[float]:
    """The sliders' code for one model: the origin until something set it (or if it has the wrong size)."""
    code = ss.get(code_key(ctx_key))
    return list(code) if isinstance(code, list) and len(code) == latent_dim else [0.0] * latent_dim


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
def set_code(ctx_key: str, z: Sequence[float], view: str | None = None) -> None:
    """Write a code into the sliders of one model, exactly (never clipped), optionally opening the sliders."""
    ss[code_key(ctx_key)] = [round(float(v), 4) for v in z]
    if view:
        request_view(view)


@guarded
def hear_slider_code(ctx_key: str, code: list[float], seq: int) -> None:
    """The page's sliders were released at `code` (its drag number `seq`)."""
    ss[code_key(ctx_key)] = code
    ss[code_seq_key(ctx_key)] = seq


@guarded
def set_code_coordinates(ctx_key: str, latent_dim: int, dims: tuple[int, int], point: list[float]) -> None:
    """The latent pad's pinned point: two coordinates of the sliders' code."""
    code = current_code(ctx_key, latent_dim)
    code[dims[0]], code[dims[1]] = point
    set_code(ctx_key, code)


@guarded
def randomise_code(ctx_key: str, latent_dim: int) -> None:
    set_code(ctx_key, random_code(latent_dim, fresh_seed()))


@guarded
def start_from_test_digit(ctx_key: str, model: LatentModel) -> None:
    image = cached_test_set().images[int(ss["slider_test_index"])]
    set_code(ctx_key, encode_means(model, image)[0].tolist())


@guarded
def reroll() -> None:
    ss["prior_seed"] = fresh_seed()


@guarded
def switch_model(path: str) -> None:
    ss[MODEL_CHOICE] = path


def morph_pair() -> list[int]:
    """The two digits to morph (test indices); (0, 1) until someone picks others."""
    return [int(ss.get("morph_a", 0)), int(ss.get("morph_b", 1))]


NEXT_END = "morph_next"  # which end of the morph pair the next pick sets: "A" or "B"


def next_end() -> str:
    return "B" if ss.get(NEXT_END) == "B" else "A"


@guarded
def set_next_end(row: int) -> None:
    """The next end of the morph pair becomes test digit `row`; then the other end is next."""
    end = next_end()
    (ss["morph_a"], ss["morph_b"]), ss[NEXT_END] = assign_end(morph_pair(), end, int(row))
    st.toast(f"Test #{row} is now {end} of the morph pair; the next pick sets {ss[NEXT_END]}.")


@guarded
def pick_pair_from_chart(chart_key: str) -> None:
    rows = selected_rows(ss.get(chart_key))
    if rows:
        set_next_end(rows[0])
    else:  # Plotly unselects a dot clicked a second time: say why nothing changed
        st.toast(f"No digit picked (a second click on a dot unselects it): click a dot to set {next_end()}.")


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
