"""The latent sliders in the page: the digit is decoded in the browser while a thumb moves, and the server
hears the code once, when the drag ends (see latent_sliders.js for the protocol)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import streamlit as st

from explorer.ui.components.mount import finite_code, register, resend, weights_once
from vae.model import LatentModel

STEP = 0.01
CAPTION = "decoded in your browser from the sliders' code"
_SLIDERS = register("vae_latent_sliders", "latent_sliders")
OnCommit = Callable[[list[float], int], None]


def parse_commit(value: object, latent_dim: int) -> tuple[list[float], int] | None:
    """The page's {"code": [...], "seq": n}, or None when it is malformed or for another model."""
    if not isinstance(value, dict):
        return None
    code, seq = finite_code(value.get("code"), latent_dim), value.get("seq")
    if code is None or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    return code, seq


def _committed(key: str, latent_dim: int, on_commit: OnCommit) -> None:
    parsed = parse_commit((st.session_state.get(key) or {}).get("commit"), latent_dim)
    if parsed is not None:
        on_commit(*parsed)


def latent_sliders(
    model: LatentModel,
    code: Sequence[float],
    seq: int,
    sliders: Sequence[tuple[int, str]],
    extent: float,
    on_commit: OnCommit,
    key: str,
    caption: str = CAPTION,
) -> None:
    """Sliders (in the order given, labelled) and the digit they decode to, all drawn in the page.

    `seq` is the number of the page's last commit the server has taken (0 at first); on_commit(code, seq)
    is called (as a widget callback, before the script) with every new one.
    """
    model_id, weights = weights_once(model)
    _SLIDERS(
        key=key,
        data={
            "model": model_id,
            "weights": weights,
            "code": [float(v) for v in code],
            "seq": int(seq),
            "sliders": [[int(dim), label] for dim, label in sliders],
            "extent": float(extent),
            "step": STEP,
            "caption": caption,
        },
        on_commit_change=partial(_committed, key, model.latent_dim, on_commit),
        on_need_weights_change=partial(resend, key, "need_weights"),
    )
