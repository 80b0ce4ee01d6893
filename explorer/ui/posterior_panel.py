"""The posterior as digits, for any digit on a page: decoded μ beside 16 codes drawn from q(z|x)."""

from __future__ import annotations

import streamlit as st
import torch

from explorer.state.session import ss
from explorer.ui.pictures import show_pixels
from explorer.words.digit import NO_POSTERIOR, POSTERIOR_HELP
from vae.images import enlarge, png_bytes, tile
from vae.model import LatentModel
from vae.posterior import NoPosteriorError, posterior_digits

POSTERIOR_SEED = "posterior_seed"  # shared by the views: "Draw 16 others" anywhere gives new draws


def next_posterior_draw() -> None:
    ss[POSTERIOR_SEED] = ss.get(POSTERIOR_SEED, 0) + 1


def show_posterior(model: LatentModel, image: torch.Tensor, key: str, columns: int = 8) -> None:
    """`image`: one MNIST-style digit (any shape with 784 values); `key` names this panel's button."""
    try:
        drawn = posterior_digits(model, image, seed=ss.get(POSTERIOR_SEED, 0))
    except NoPosteriorError:  # an autoencoder: no heading over a box saying there is nothing under it
        st.info(NO_POSTERIOR)
        return
    st.markdown("**Its posterior as digits**")
    mean_col, samples_col = st.columns([1, 2] if columns >= 8 else [1, 1])
    show_pixels(
        mean_col,
        enlarge(drawn.mean, 5),
        caption="decoded μ, the bubble's centre",
        width=140,
        alt="the digit decoded from the posterior's mean μ, the centre of its bubble",
    )
    show_pixels(  # enlarged with sharp pixels, then fitted to the column (a narrow one in the map view)
        samples_col,
        png_bytes(tile(drawn.samples, columns=columns, pad=2), 3),
        caption="16 codes drawn from the bubble q(z|x), decoded",
        width="stretch",
        alt=f"16 digits decoded from codes drawn at random from the posterior q(z|x), in {columns} columns",
    )
    st.caption(POSTERIOR_HELP)
    st.button("Draw 16 others", on_click=next_posterior_draw, key=f"{key}_posterior_again")
