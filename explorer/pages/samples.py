"""Samples: digits decoded from random codes, with a temperature and a seed you can see and set."""

from __future__ import annotations

import streamlit as st

from explorer.context import Context
from explorer.state.epochs import decoding_model, epoch_banner
from explorer.state.session import reroll, set_code, ss
from explorer.state.url import DEFAULT_SAMPLES, MAX_PRIOR_SEED, MAX_SAMPLES
from explorer.ui.pictures import show_pixels
from explorer.ui.widgets import ranged_int_input
from explorer.words.app import AE_SAMPLES_WARNING, SEEDS, samples_help
from explorer.words.look_for import LookFor
from vae.codes import prior_samples
from vae.images import enlarge

LOOK_FOR = LookFor("At T = 1 almost every random code of a VAE decodes to a digit; an autoencoder's mostly do not.")

SMALL = 3  # enlargement in grids: 84 px


def render(ctx: Context) -> None:
    decoder, epoch = decoding_model(ctx)
    epoch_banner(ctx, epoch)
    c1, c2, c3, c4 = st.columns([3, 3, 2, 1.4], vertical_alignment="bottom")  # 1: 78 px, "Reroll" was cut
    count = c1.slider("How many digits", 1, MAX_SAMPLES, DEFAULT_SAMPLES, key="prior_count", persist_state="session")
    temperature = c2.slider("Temperature T", 0.1, 2.0, 1.0, 0.05, key="prior_temperature", persist_state="session")
    seed = ranged_int_input(c3, "Seed", 0, MAX_PRIOR_SEED, "prior_seed", 0, SEEDS, persist_state="session")
    c4.button("Reroll", on_click=reroll, icon=":material/casino:", width="stretch")
    samples = prior_samples(decoder, count, temperature, seed)
    if not ctx.has_posterior:
        st.warning(AE_SAMPLES_WARNING)
    st.caption(samples_help(ctx.has_posterior, ctx.model.latent_dim))
    show_pixels(
        st,
        [enlarge(image, SMALL) for image in samples.images],
        caption=[f"#{i + 1}" for i in range(count)],
        alt=[
            f"sample #{i + 1}: a digit decoded from a random code at temperature {temperature:g}" for i in range(count)
        ],
    )
    if ss.get("prior_pick", 1) > count:  # fewer samples than the one picked: the last one
        ss["prior_pick"] = count
    p1, p2, _ = st.columns([1, 2, 3], vertical_alignment="bottom")
    # A list, not a number box: its choices follow "How many digits", so no value can be out of range.
    pick = p1.selectbox("Sample #", range(1, count + 1), key="prior_pick", persist_state="session")
    p2.button(
        "Send this sample to the sliders",
        on_click=set_code,
        args=(ctx.key, samples.codes[int(pick) - 1].tolist(), "sliders"),
    )
