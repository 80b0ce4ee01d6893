"""Latent sliders: one slider per coordinate of the code, the digit decoded in the page while a thumb moves;
below, for more than two coordinates, a pad over any two of them (a slice through the current code).

A drag's end (a commit) reruns only the inner fragment, the sliders themselves: it is what a class of users
does most, and the buttons, captions and pad around them need no redraw (the pad follows the sliders in
the page). Anything else (a button, the pad's click) reruns the whole view."""

from __future__ import annotations

from functools import partial

import streamlit as st

from explorer.context import Context
from explorer.state.epochs import decoding_model, epoch_banner
from explorer.state.links import write_address
from explorer.state.session import (
    code_seq_key,
    current_code,
    hear_slider_code,
    randomise_code,
    set_code,
    set_code_coordinates,
    ss,
    start_from_test_digit,
)
from explorer.state.slider_values import dimension_order, slider_labels
from explorer.state.url import LAST_TEST_ROW
from explorer.ui.classroom import send_to_class
from explorer.ui.colours import DIGIT_COLOURS
from explorer.ui.components.latent_pad import latent_pad, seen_from
from explorer.ui.components.latent_sliders import CAPTION, latent_sliders
from explorer.ui.widgets import guarded_fragment, ranged_int_input
from explorer.words.app import TEST_ROWS, sliders_help
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae import LatentModel
from vae.atlas import unused_dimensions
from vae.codes import PRIOR_EXTENT

LOOK_FOR = LookFor(
    "Move one slider at a time: the top ones change the digit's shape, the last ones barely anything.",
    autoencoder="Move one slider at a time: an autoencoder spreads its digits over every coordinate, and codes "
    "between its test digits often decode to smudges.",
    two_d="Two sliders are the whole code: sweep one and the digit turns into its neighbours on the 2-D plane.",
)


@guarded_fragment("sliders")  # a button reruns this view alone, not the sidebar and the page around it
def render(ctx: Context) -> None:
    d = ctx.model.latent_dim
    atlas = ctx.atlas
    specs = slider_labels(atlas.dim_usage if atlas else None, atlas.usage_label if atlas else "", d)
    decoder, epoch = decoding_model(ctx)  # the Training view's epoch slider may pick an earlier decoder
    epoch_banner(
        ctx, epoch, "The sliders' order and usage labels and the test digits' codes are still the trained model's."
    )
    buttons = st.container(horizontal=True, vertical_alignment="bottom")
    with buttons:
        st.button("Reset to the origin", on_click=set_code, args=(ctx.key, [0.0] * d))
        st.button("Randomise", on_click=randomise_code, args=(ctx.key, d))
        box = {"width": 160, "persist_state": "session"}
        ranged_int_input(buttons, "Test digit #", 0, LAST_TEST_ROW, "slider_test_index", 0, TEST_ROWS, **box)
        st.button(
            "Start from its μ" if ctx.has_posterior else "Start from its code",
            on_click=start_from_test_digit,
            args=(ctx.key, ctx.model),
        )
    if atlas is None:
        st.warning(f"Sliders are in index order: {plain(ctx.atlas_error)}")
    else:
        unused = unused_dimensions(atlas.dim_usage, atlas.usage_label) if ctx.has_posterior else 0
        st.caption(sliders_help(ctx.has_posterior, d, unused, ctx.extent))
    code = [round(float(v), 4) for v in current_code(ctx.key, d)]
    send_to_class("code", {"z": code, "model": ctx.summary.name}, key="class_send_code")
    caption = CAPTION + (f" by the decoder of epoch {epoch}" if epoch is not None else "")
    live_sliders(ctx, decoder, specs, caption)
    if d > 2:
        slice_pad(ctx, decoder, current_code(ctx.key, d))


@guarded_fragment("sliders")  # a drag's end reruns these alone
def live_sliders(ctx: Context, decoder: LatentModel, specs: list[tuple[int, str]], caption: str) -> None:
    latent_sliders(
        decoder,
        current_code(ctx.key, ctx.model.latent_dim),
        int(ss.get(code_seq_key(ctx.key), 0)),
        specs,
        ctx.extent,
        partial(hear_slider_code, ctx.key),
        key=f"live_sliders:{ctx.key}",
        caption=caption,
    )
    write_address(ctx)  # a commit reruns this fragment only: the address follows here


def slice_pad(ctx: Context, decoder: LatentModel, code: list[float]) -> None:
    """A pad over two chosen coordinates, the others held at the sliders' code; a click sets those two."""
    d = ctx.model.latent_dim
    atlas = ctx.atlas
    order = dimension_order(atlas.dim_usage if atlas else None, d)
    st.subheader("Two coordinates at a time", divider="gray")
    c1, c2, _ = st.columns([1, 1, 3])
    first = c1.selectbox("Across", order, index=0, format_func=lambda i: f"z{i}", key=f"pad_x:{ctx.key}")
    second = c2.selectbox(
        "Up", [i for i in order if i != first], index=0, format_func=lambda i: f"z{i}", key=f"pad_y:{ctx.key}"
    )
    dims = (int(first), int(second))
    points, extent = seen_from(atlas, dims) if atlas else (None, PRIOR_EXTENT)
    st.caption(
        f"A slice through the space: z{dims[0]} across, z{dims[1]} up, every other coordinate held at the sliders' "
        "code. The dots are the test digits' codes seen from this side. Move over it (or drag a finger) to decode; "
        "click or lift to set the two sliders."
    )
    latent_pad(
        decoder,
        dims,
        code,
        extent,
        points,
        DIGIT_COLOURS,
        partial(set_code_coordinates, ctx.key, d, dims),
        key=f"slice_pad:{ctx.key}",
        captions=("the test digits' codes, seen from these two coordinates", "the decoder's view of this slice"),
        follow_sliders=True,
    )
