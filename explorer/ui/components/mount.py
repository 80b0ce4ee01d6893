"""What the in-page components share on the Python side: registering one (decoder.js in front of its own
script) and sending what the page keeps (a decoder's weights, a pad's test codes) once per session."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import streamlit as st

from explorer.ui.components.weights import pack_decoder
from vae.model import LatentModel

HERE = Path(__file__).resolve().parent
SENT = "live_decoder_sent"  # session state: ids of what this session's page holds (weights, test codes)


def first_time(item_id: str) -> bool:
    """True the first time this session sends `item_id` to its page, False after: the page keeps it."""
    sent: set[str] = st.session_state.setdefault(SENT, set())
    if item_id in sent:
        return False
    sent.add(item_id)
    return True


def register(name: str, script: str, decoder: bool = True) -> Any:
    """The component `name` from <script>.js (after decoder.js if it decodes) and <script>.css if there is one."""
    js = (HERE / f"{script}.js").read_text()
    if decoder:
        js = (HERE / "decoder.js").read_text() + "\n" + js
    css = HERE / f"{script}.css"
    return st.components.v2.component(name, css=css.read_text() if css.is_file() else None, js=js)


def weights_once(model: LatentModel) -> tuple[str, dict[str, object] | None]:
    """(model id, weights): the weights only if this session has not sent them yet; they stay in the page."""
    packed = pack_decoder(model)
    return packed.model_id, packed.payload if first_time(packed.model_id) else None


def resend(component_key: str, trigger: str) -> None:
    """Callback for the page's "need_weights" or "need_points" trigger (its value: the id it lacks, e.g.
    because the run that carried it was cut short by a newer one): the next run sends it again."""
    result = st.session_state.get(component_key) or {}
    st.session_state.setdefault(SENT, set()).discard(result.get(trigger))


def finite_code(value: object, latent_dim: int) -> list[float] | None:
    """A code sent by the page: `latent_dim` finite numbers, else None (a stale page, another model)."""
    if not isinstance(value, list) or len(value) != latent_dim:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    return [float(v) for v in value]
