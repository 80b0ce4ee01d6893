"""The 2-D plane: a 2-D model's latent plane as a pad the pointer explores (decoded live in the page, with
a crosshair on the plane and a marker on the decoded grid), and its test codes' μ ± σ bubbles."""

from __future__ import annotations

import streamlit as st

from explorer.context import Context
from explorer.state.session import PLANE_PIN, guarded, set_code, ss, switch_model
from explorer.ui.colours import DIGIT_COLOURS
from explorer.ui.components.latent_pad import latent_pad, seen_from
from explorer.ui.pictures import subset_rows
from explorer.words.app import PLANE_AE_HELP, PLANE_BUBBLES_HELP, PLANE_VAE_HELP
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae.catalog import plane_checkpoint

LOOK_FOR = LookFor("Move over the gaps between clusters: the decoder still draws a plausible digit there.")


@guarded
def pin(point: list[float]) -> None:
    ss[PLANE_PIN] = point


def render(ctx: Context) -> None:
    if ctx.model.latent_dim != 2:
        offer_the_2d_model(ctx)
        return
    if ctx.atlas is None:
        st.error(plain(ctx.atlas_error))
        return
    atlas = ctx.atlas
    points, extent = seen_from(atlas, (0, 1))
    z = ss.get(PLANE_PIN)
    if z is None:  # above the columns: in the narrow one it was squeezed into a word a line
        st.info(
            "Move over the plane or the grid to decode a point (or drag a finger over it, or Tab to it and use the "
            "arrow keys); click, lift the finger or press Enter to pin it."
        )
    controls, pad = st.columns([1, 5], gap="medium")
    with controls:
        steps = st.slider("Digits per side", 8, 25, 15, key="plane_steps", persist_state="session")
        if z is not None:
            st.markdown(f"Pinned: z = ({z[0]:.2f}, {z[1]:.2f})")
            st.button("Send to the sliders", on_click=set_code, args=(ctx.key, list(z), "sliders"))
    with pad:
        latent_pad(
            ctx.model,
            (0, 1),
            [0.0, 0.0],
            extent,
            points,
            DIGIT_COLOURS,
            pin,
            key=f"plane_pad:{ctx.key}",
            pinned=z,
            steps=steps,
            captions=(
                "the latent plane: each dot a test digit's code, coloured by its label",
                f"the decoder's view: a digit decoded at every point of a grid over [−{extent:g}, {extent:g}]²",
            ),
        )
    st.caption(PLANE_VAE_HELP if ctx.has_posterior else PLANE_AE_HELP)
    bubbles(ctx, extent)


def bubbles(ctx: Context, extent: float) -> None:
    """The test codes with their μ ± σ bubbles (a VAE), as a Plotly figure one can zoom into."""
    from explorer.ui.figures import plane_figure

    atlas = ctx.atlas
    st.subheader("The codes' bubbles" if ctx.has_posterior else "The codes", divider="gray")
    left, right = st.columns([1, 3])
    count = left.slider("Test digits drawn", 300, 1000, 500, 100, key="plane_count", persist_state="session")
    scale = 1
    if ctx.has_posterior:
        scale = left.slider(
            "Bubbles drawn at × σ", 1, 10, 1, key="plane_bubble_scale", persist_state="session", help=PLANE_BUBBLES_HELP
        )
    rows = subset_rows(len(atlas.labels), count)
    with right:
        st.plotly_chart(
            plane_figure(atlas.mu, atlas.logvar, atlas.labels, rows, extent, height=450, bubble_scale=scale),
            config={"displaylogo": False, "scrollZoom": True},
        )


def offer_the_2d_model(ctx: Context) -> None:
    st.info(
        f"This view draws the latent space itself, which needs a model with a 2-D code; "
        f"{ctx.name} has d = {ctx.model.latent_dim}. (The t-SNE map is the many-dimensional version; "
        "the sliders view has a pad over any two coordinates.)"
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
