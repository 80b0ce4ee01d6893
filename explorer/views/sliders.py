"""Latent sliders: one slider per coordinate of the code, the decoded digit beside them."""

from __future__ import annotations

import streamlit as st

from explorer.epochs import decoding_model, epoch_banner
from explorer.model_picker import Context
from explorer.slider_values import SLIDER_STEP, slider_labels, unused_dimensions
from explorer.state import randomise_code, set_code, ss, start_from_test_digit
from explorer.text import sliders_help
from explorer.widgets import guarded_fragment
from vae.codes import decode_code
from vae.images import enlarge

BIG = 10  # enlargement of a single digit: 280 px
LAST_TEST_INDEX = 9999  # MNIST has 10,000 test digits


@guarded_fragment("sliders")  # a slider move reruns this view alone, not the sidebar and the page around it
def render(ctx: Context) -> None:
    d = ctx.model.latent_dim
    atlas = ctx.atlas
    specs = slider_labels(atlas.dim_usage if atlas else None, atlas.usage_label if atlas else "", d)
    for dim in range(d):
        ss.setdefault(ctx.slider_key(dim), 0.0)
    decoder, epoch = decoding_model(ctx)
    epoch_banner(ctx, epoch)
    left, right = st.columns([2, 3], gap="large")
    with left:
        picture = st.empty()  # filled after the sliders, with the code they hold now
        b1, b2 = st.columns(2)
        b1.button("Reset to the origin", on_click=set_code, args=(ctx.key, ctx.extent, [0.0] * d), width="stretch")
        b2.button("Randomise", on_click=randomise_code, args=(ctx.key, ctx.extent, d), width="stretch")
        n1, n2 = st.columns([1, 1], vertical_alignment="bottom")
        n1.number_input("Test digit #", 0, LAST_TEST_INDEX, key="slider_test_index", persist_state="session")
        n2.button(
            "Start from its μ" if ctx.is_vae else "Start from its code",
            on_click=start_from_test_digit,
            args=(ctx.key, ctx.extent, ctx.model),
            width="stretch",
        )
    with right:
        if atlas is None:
            st.warning(f"Sliders are in index order: {ctx.atlas_error}")
        else:
            unused = unused_dimensions(atlas.dim_usage, atlas.usage_label) if ctx.is_vae else 0
            st.caption(sliders_help(ctx.is_vae, d, unused))
        columns = st.columns(2)
        per_column = -(-len(specs) // 2)
        for n, (dim, label) in enumerate(specs):
            columns[n // per_column].slider(
                label,
                -ctx.extent,
                ctx.extent,
                step=SLIDER_STEP,
                format="%.2f",
                key=ctx.slider_key(dim),
                persist_state="session",
            )
    code = [ss[ctx.slider_key(dim)] for dim in range(d)]
    caption = "decoded from the sliders' code" + (f" by the decoder of epoch {epoch}" if epoch is not None else "")
    picture.image(enlarge(decode_code(decoder, code), BIG), caption=caption)
