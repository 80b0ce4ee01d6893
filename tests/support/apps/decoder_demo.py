"""A bare page with the in-page decoder, for the browser tests and bench/decode_fps.py.

    streamlit run tests/support/apps/decoder_demo.py -- checkpoints/vae_d20.safetensors

Beside the sliders it shows what the server knows: the code it heard and that code decoded by PyTorch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `streamlit run` puts the script's folder first, not the repository
    sys.path.insert(0, str(REPO))

from explorer.state.code_range import code_extent  # noqa: E402
from explorer.state.slider_values import dimension_order, slider_labels  # noqa: E402
from explorer.ui.colours import DIGIT_COLOURS  # noqa: E402
from explorer.ui.components.latent_pad import latent_pad, seen_from  # noqa: E402
from explorer.ui.components.latent_sliders import latent_sliders  # noqa: E402
from vae import load_checkpoint  # noqa: E402
from vae.atlas import load_atlas  # noqa: E402
from vae.codes import decode_code, fresh_seed, random_code  # noqa: E402
from vae.images import enlarge  # noqa: E402

CHECKPOINT = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "checkpoints" / "vae_d20.safetensors")
ss = st.session_state


@st.cache_resource
def resources(path: str):
    return load_checkpoint(path), load_atlas(path)


model, atlas = resources(CHECKPOINT)
d = model.latent_dim
ss.setdefault("code", [0.0] * d)
ss.setdefault("seq", 0)
ss.setdefault("commits", 0)


def heard(code: list[float], seq: int) -> None:
    ss["code"], ss["seq"] = code, seq
    ss["commits"] += 1


def randomise() -> None:
    ss["code"] = random_code(d, fresh_seed())


def far_out() -> None:
    ss["code"] = [8.5] + [0.0] * (d - 1)


st.button("Randomise", on_click=randomise)
st.button("Far out", on_click=far_out)
latent_sliders(
    model,
    ss["code"],
    ss["seq"],
    slider_labels(atlas.dim_usage, atlas.usage_label, d),
    code_extent(atlas.mu),
    heard,
    key="demo_sliders",
)
st.image(enlarge(decode_code(model, ss["code"]), 4), caption="server decode")
st.code(f"commits={ss['commits']} seq={ss['seq']} code={ss['code']}", language=None)

dims = tuple(dimension_order(atlas.dim_usage, d)[:2])
points, extent = seen_from(atlas, dims)
latent_pad(
    model,
    dims,
    ss["code"],
    extent,
    points,
    DIGIT_COLOURS,
    lambda point: ss.update(pin=point),
    key="demo_pad",
    pinned=ss.get("pin"),
)
st.code(f"pin={ss.get('pin')}", language=None)
