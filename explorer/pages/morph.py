"""Morph two digits: pick them (map, index or gallery), see k frames between their codes, linear and
spherical, and a plain autoencoder's morph of the same pair (computed in vae/morph.py)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.context import Context
from explorer.service.resources import cached_test_set, model_at, model_identity, shared_map_figure, shared_result
from explorer.state.epochs import trained_model_banner
from explorer.state.links import write_address
from explorer.state.session import NEXT_END, pick_pair_from_chart, pick_pair_from_gallery, ss
from explorer.state.url import LAST_TEST_ROW
from explorer.ui.classroom import send_to_class
from explorer.ui.components.map_marks import map_marks
from explorer.ui.morph_figures import corner_grid_block, pixel_path_block
from explorer.ui.pictures import show_pixels
from explorer.ui.widgets import guarded_fragment, keyed_style, pickable_chart, ranged_int_input
from explorer.words.app import (
    MORPH_AUTOENCODER_HELP,
    MORPH_MAP_HINT,
    TEST_ROWS,
    morph_linear_help,
    morph_spherical_help,
)
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae import CheckpointError
from vae.catalog import autoencoder_for_comparison
from vae.images import enlarge, png_bytes
from vae.model import LatentModel
from vae.morph import MorphRow, morph_row

LOOK_FOR = LookFor(
    "Watch the middle frames: a VAE's stay digits all the way, an autoencoder's are ghostly overlays.",
    autoencoder="Watch the middle frames: this autoencoder's are ghostly overlays; pick a VAE to see them stay digits.",
)


def digit_examples(labels: np.ndarray | torch.Tensor) -> list[int]:
    """The first test index of each digit 0–9 (a fixed gallery to pick morph ends from)."""
    labels = np.asarray(labels)
    return [int(np.flatnonzero(labels == digit)[0]) for digit in range(10) if (labels == digit).any()]


def morph_captions(frames: int) -> list[str]:
    """Labels for a morph row: the ends, then each frame's t (fraction of the way from A to B)."""
    ts = [f"t={(i + 1) / (frames + 1):.2f}" for i in range(frames)]
    return ["A", "recon A", *ts, "recon B", "B"]


# Streamlit's pills are padded for words; the digits' ten then wrapped onto a second line in this column.
GALLERY_STYLE = keyed_style(("gallery_a", "gallery_b"), "button", "padding-left: 8px; padding-right: 8px;")


def render(ctx: Context) -> None:
    trained_model_banner(ctx)
    test = cached_test_set()
    labels = test.labels.numpy()
    pickers, chart = st.columns([2, 3], gap="large")
    with pickers:
        a1, a2 = st.columns(2)
        keep = {"persist_state": "session"}
        a = ranged_int_input(a1, "Digit A: test #", 0, LAST_TEST_ROW, "morph_a", 0, TEST_ROWS, **keep)
        b = ranged_int_input(a2, "Digit B: test #", 0, LAST_TEST_ROW, "morph_b", 1, TEST_ROWS, **keep)
        show_pixels(
            a1,
            enlarge(test.images[a], 4),
            caption=f"A: a {labels[a]}",
            alt=f"where the morph starts (A): test #{a}, a {labels[a]}",
        )
        show_pixels(
            a2,
            enlarge(test.images[b], 4),
            caption=f"B: a {labels[b]}",
            alt=f"where the morph ends (B): test #{b}, a {labels[b]}",
        )
        send_to_class("morph", {"a": int(a), "b": int(b), "model": ctx.summary.name}, key="class_send_morph")
        examples = digit_examples(labels)
        st.caption("…or take one from this gallery:")
        st.html(GALLERY_STYLE)
        for end in ("a", "b"):
            st.pills(
                f"Gallery → {end.upper()}",
                examples,
                format_func=lambda row: str(labels[row]),
                key=f"gallery_{end}",
                on_change=pick_pair_from_gallery,
                args=(end,),
                wrap=True,
            )
    with chart:
        if ctx.atlas is None:
            st.info(f"No map to click on: {plain(ctx.atlas_error)}")
        else:
            ss.setdefault(NEXT_END, "A")
            st.segmented_control(
                "Next click on the map sets",
                ["A", "B"],
                key=NEXT_END,
                required=True,
                help="A click (or a tap) on a dot sets this end, then the other one is next.",
            )
            # The figure never changes with the pair (a changed figure would lose zoom and pan): the pair is
            # marked over it, in the page.
            figure = shared_map_figure(
                ctx.atlas.coords, ctx.atlas.labels, show_axes=False, revision=f"morph:{ctx.key}", legend_on_top=True
            )
            pickable_chart(figure, "morph_map", pick_pair_from_chart, modes=("points",))
            map_marks("morph_map", ctx.atlas.coords, test.images, [("A", a), ("B", b)])
            st.caption(MORPH_MAP_HINT, unsafe_allow_html=True)
    ends = f"from test #{a}, {a_digit(labels[a])}, to #{b}, {a_digit(labels[b])}"
    morph_rows(ctx, (int(a), int(b)), ends)


def a_digit(label: object) -> str:
    """ "a 3", "an 8": a digit as the alternative texts say it."""
    return f"an {label}" if int(label) == 8 else f"a {label}"


def morph_alts(kind: str, ends: str, frames: int) -> list[str]:
    """What each picture of a morph row shows, for a screen reader (the captions alone say "t=0.45")."""
    head = f"{kind} morph {ends}"
    middle = [f"{head}: frame {i + 1} of {frames}, t = {(i + 1) / (frames + 1):.2f}" for i in range(frames)]
    return [f"{head}: digit A", f"{head}: A reconstructed", *middle, f"{head}: B reconstructed", f"{head}: digit B"]


@guarded_fragment("morph")  # moving k reruns only the morphs, not the map above them
def morph_rows(ctx: Context, pair: tuple[int, int], ends: str = "") -> None:
    test = cached_test_set()
    image_a, image_b = test.images[pair[0]], test.images[pair[1]]
    slider, _ = st.columns([1, 2])
    frames = slider.slider("In-between frames k", 1, 30, 10, key="morph_frames", persist_state="session")
    write_address(ctx)  # k is part of the link; moving it reruns this fragment only

    def row(model: LatentModel, method: str) -> tuple[MorphRow, list[bytes]]:
        def compute() -> tuple[MorphRow, list[bytes]]:
            made = morph_row(model, image_a, image_b, frames, method)
            return made, [png_bytes(image, 2) for image in made.images]  # encoded once too

        return shared_result(model_identity(model), "morph row", (pair, frames, method), compute)

    morph_row_block(
        *row(ctx.model, "linear"),
        "Linear: z = (1 − t)·z_A + t·z_B",
        morph_linear_help(ctx.has_posterior),
        "linear",
        morph_alts("linear", ends, frames),
    )
    morph_row_block(
        *row(ctx.model, "spherical"),
        "Spherical (slerp): along the arc between the two codes",
        morph_spherical_help(ctx.has_posterior, ctx.model.latent_dim),
        "spherical",
        morph_alts("spherical", ends, frames),
    )
    autoencoder = autoencoder_for_comparison(ctx.listing.checkpoints, ctx.summary)
    if autoencoder is not None:
        try:
            compared = row(model_at(autoencoder.path), "linear")
        except CheckpointError as exc:
            st.warning(f"The autoencoder comparison is unavailable: {plain(exc)}")
        else:
            morph_row_block(
                *compared,
                f"The same morph with a plain autoencoder ({autoencoder.name})",
                MORPH_AUTOENCODER_HELP,
                "autoencoder",
                morph_alts("autoencoder's", ends, frames),
            )
    pixel_path_block(ctx, pair, frames)  # the lecture's pixel blend, and its four corners
    corner_grid_block(ctx)


def morph_row_block(
    row: MorphRow, pictures: list[bytes], title: str, explanation: str, key: str, alts: list[str] | None = None
) -> None:
    """`pictures`: the row's images as PNG files, twice their size."""
    st.markdown(f"**{title}**")
    st.caption(explanation)
    show_pixels(st, pictures, caption=morph_captions(len(row.frames)), alt=alts)
    with st.container(horizontal=True):
        # Encoded when clicked (deferred): most visitors never download, and the encoding is most of a run.
        for label, data, ext in (("GIF", row.gif, "gif"), ("PNG strip", row.png, "png")):
            st.download_button(
                label, data, f"morph_{key}.{ext}", f"image/{ext}", icon=":material/download:", key=f"{ext}_{key}"
            )
