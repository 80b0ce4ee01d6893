"""Your own digit: upload or draw one; see the MNIST-style preprocessing (vae/preprocess.py) step by step,
its reconstruction, loss terms, code, place on the map and nearest test digits (vae/digit_analysis.py)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.display_images import preview_stages
from explorer.model_picker import Context
from explorer.resources import cached_test_set
from explorer.slider_values import dimension_order
from explorer.state import set_code, ss
from explorer.text import CODE_PRIOR_HELP, reconstruction_caption, typical_digit_note
from vae.catalog import typical_terms
from vae.digit_analysis import analyse_digit
from vae.images import enlarge

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
SMALL = 3  # enlargement of the neighbours: 84 px


def canvas_has_ink(json_data: dict[str, Any] | None) -> bool:
    """Whether anything was drawn on the canvas (an untouched canvas is not an error, just empty)."""
    return bool(json_data and json_data.get("objects"))


def digit_input() -> bytes | None:
    """The user's digit as image bytes, from an upload or the drawing canvas (None until there is one)."""
    ss.setdefault("digit_source", "Upload")
    source = st.segmented_control("Your digit from", ["Upload", "Draw"], key="digit_source", required=True)
    if source == "Upload":
        upload = st.file_uploader("An image of one digit (up to 5 MB)", type=UPLOAD_TYPES, key="digit_upload")
        return upload.getvalue() if upload is not None else None
    from streamlit_drawable_canvas import st_canvas

    dark = st.toggle("White ink on black", key="canvas_dark", persist_state="session")
    canvas = st_canvas(
        stroke_width=20,
        stroke_color="#ffffff" if dark else "#000000",
        background_color="#000000" if dark else "#ffffff",
        width=280,
        height=280,
        return_image_data=True,
        key=f"canvas_{'dark' if dark else 'light'}",
    )
    return canvas.image_bytes if canvas_has_ink(canvas.json_data) else None


def render(ctx: Context) -> None:
    from vae.preprocess import InvalidImageError, preprocess_steps

    source, results = st.columns([1, 2], gap="large")  # the canvas needs its 280 px
    with source:
        data = digit_input()
    with results:
        if data is None:
            st.info("Upload a picture of a handwritten digit, or draw one, to see how the model encodes it.")
            return
        try:
            prepared = preprocess_steps(data)
        except InvalidImageError as exc:
            st.error(str(exc))
            return
        atlas = ctx.atlas
        analysis = analyse_digit(
            ctx.model, prepared.tensor, atlas.mu if atlas else None, atlas.coords if atlas else None
        )
        stages = preview_stages(prepared.stages())
        st.caption("How your image becomes an MNIST-style 28×28 digit:")
        st.image(list(stages.values()), caption=list(stages), width=112)
        c1, c2, c3 = st.columns([1, 1, 1])
        c1.image(enlarge(prepared.mnist, 6), caption="what the model sees", width=168)
        c2.image(enlarge(analysis.reconstruction, 6), caption=reconstruction_caption(ctx.is_vae), width=168)
        with c3:
            st.metric("Reconstruction loss", f"{analysis.recon_nats:.1f} nats")
            if analysis.kl_nats is not None:
                st.metric("KL to the prior", f"{analysis.kl_nats:.1f} nats")
            typical = typical_terms(ctx.model.meta)
            if typical is not None:
                st.caption(typical_digit_note(*typical))
            st.button(
                "Send its code to the sliders",
                on_click=set_code,
                args=(ctx.key, ctx.extent, analysis.mu.tolist(), "sliders"),
            )
    from explorer.figures import code_figure, map_figure

    order = dimension_order(atlas.dim_usage if atlas else None, len(analysis.mu))
    left, right = st.columns(2, gap="large")
    with left:
        if ctx.is_vae:
            st.markdown("**Its code, μ ± σ per coordinate** (most used coordinates first)")
        else:
            st.markdown("**Its code, coordinate by coordinate** (most varied coordinates first)")
        st.plotly_chart(code_figure(analysis.mu, analysis.sigma, order), config={"displaylogo": False})
        if ctx.is_vae:
            st.caption(CODE_PRIOR_HELP)
    with right:
        if atlas is None or analysis.map_xy is None:
            st.info(f"No map: {ctx.atlas_error}")
        else:
            st.markdown("**Its place on the map** (★, among its nearest test codes)")
            st.plotly_chart(
                map_figure(
                    atlas.coords, atlas.labels, star=analysis.map_xy, height=360, show_axes=atlas.method == "latent"
                ),
                config={"displaylogo": False},
            )
    if len(analysis.neighbours):
        test = cached_test_set()
        st.markdown(f"**Nearest test digits** (closest code{' μ' if ctx.is_vae else ''} first)")
        st.image(
            [enlarge(test.images[row], SMALL) for row in analysis.neighbours],
            caption=[f"a {int(test.labels[row])} · #{row}" for row in analysis.neighbours],
        )
