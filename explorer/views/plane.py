"""The 2-D plane: a 2-D model's decoded manifold beside its test codes (a VAE's with their μ ± σ bubbles);
a click decodes that point."""

from __future__ import annotations

import streamlit as st

from explorer.display_images import subset_rows
from explorer.model_picker import Context
from explorer.state import pick_on_plane, set_code, ss, switch_model
from explorer.text import PLANE_AE_HELP, PLANE_BUBBLES_HELP, PLANE_VAE_HELP
from explorer.widgets import pickable_chart
from vae.catalog import plane_checkpoint
from vae.codes import decode_code, manifold_image, plane_extent
from vae.images import enlarge, png_bytes


def render(ctx: Context) -> None:
    if ctx.model.latent_dim != 2:
        offer_the_2d_model(ctx)
        return
    if ctx.atlas is None:
        st.error(ctx.atlas_error)
        return
    from explorer.figures import plane_figure

    atlas = ctx.atlas
    extent = plane_extent(atlas.mu)
    controls, grid, plane = st.columns([1, 2, 2], gap="medium")
    with controls:
        steps = st.slider("Digits per side", 8, 25, 15, key="plane_steps", persist_state="session")
        count = st.slider("Test digits drawn", 300, 1000, 500, 100, key="plane_count", persist_state="session")
        bubbles = 1
        if ctx.is_vae:
            bubbles = st.slider(
                "Bubbles drawn at × σ",
                1,
                10,
                1,
                key="plane_bubble_scale",
                persist_state="session",
                help=PLANE_BUBBLES_HELP,
            )
        z = ss.get("plane_z")
        if z is None:
            st.info("Click anywhere on the plane to decode that point.")
        else:
            st.image(enlarge(decode_code(ctx.model, z), 5), caption=f"z = ({z[0]:.2f}, {z[1]:.2f})")
            st.button("Send to the sliders", on_click=set_code, args=(ctx.key, ctx.extent, list(z), "sliders"))
    with grid:
        st.image(
            png_bytes(manifold_image(ctx.model, extent, steps), scale=2),  # crisp when scaled down
            caption=f"the decoder's view: a digit decoded at every point of a grid over [−{extent:g}, {extent:g}]²",
            width="stretch",
        )
    with plane:
        rows = subset_rows(len(atlas.labels), count)
        pickable_chart(
            plane_figure(atlas.mu, atlas.logvar, atlas.labels, rows, extent, height=450, bubble_scale=bubbles),
            "plane_chart",
            pick_on_plane,
            modes=("points",),
        )
    st.caption(PLANE_VAE_HELP if ctx.is_vae else PLANE_AE_HELP)


def offer_the_2d_model(ctx: Context) -> None:
    st.info(
        f"This view draws the latent space itself, which needs a model with a 2-D code; "
        f"{ctx.summary.name} has d = {ctx.model.latent_dim}. (The t-SNE map is the many-dimensional version.)"
    )
    plane_model = plane_checkpoint(ctx.listing.checkpoints)
    if plane_model is not None:
        st.button(
            f"Switch to the 2-D model ({plane_model.name})",
            on_click=switch_model,
            args=(str(plane_model.path),),
            type="primary",
        )
    else:
        st.caption("Train one with: `python -m vae train --latent-dim 2 --out checkpoints/vae_d2.safetensors`")
