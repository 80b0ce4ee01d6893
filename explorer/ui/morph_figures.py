"""The Morph view's two lecture figures: the pixel blend of A and B beside the same blend passed through the
model and the latent morph (with how badly the model redraws each frame), and the 4-corner grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from explorer.context import Context
from explorer.service.resources import cached_test_set, model_identity, shared_result
from explorer.state.url import LAST_TEST_ROW
from explorer.ui.pictures import show_pixels
from explorer.ui.widgets import ranged_int_input
from explorer.words.app import TEST_ROWS
from vae.images import png_bytes, tile
from vae.morph import PixelPaths, corner_grid, pixel_paths

if TYPE_CHECKING:
    import plotly.graph_objects as go

CORNERS = (3, 2, 1, 18)  # a 0, a 1, a 2 and a 3 of the test set
PATH_HELP = (
    "Top: the pixels themselves blended, (1 − t)·x_A + t·x_B: the middle frames are two digits laid over each "
    "other. Middle: each of those overlays encoded and decoded by the model: it draws them back closer to one "
    "digit. Bottom: the morph between the codes. The chart says how badly the model redraws each frame "
    "(reconstruction error, nats): high in the middle of the pixel path, low along the others."
)
GRID_HELP = (
    "Four digits' codes at the corners, every cell the bilinear blend "
    "z = (1 − u)(1 − v)·z_1 + u(1 − v)·z_2 + (1 − u)v·z_3 + uv·z_4, decoded. The corners are the four "
    "reconstructions; each row is a straight line between its two ends' codes."
)


def pixel_path_block(ctx: Context, pair: tuple[int, int], frames: int) -> None:
    """`pair`: the test rows of A and B."""
    st.markdown("**Blending pixels against blending codes**")
    st.caption(PATH_HELP)

    def compute() -> tuple[PixelPaths, list[list[bytes]], go.Figure]:
        from explorer.ui.figures import errors_figure

        images = cached_test_set().images
        made = pixel_paths(ctx.model, images[pair[0]], images[pair[1]], frames)
        pictures = [[png_bytes(image, 2) for image in row] for row in (made.pixel, made.through, made.latent)]
        return made, pictures, errors_figure(made.t, made.errors)

    paths, pictures, errors = shared_result(model_identity(ctx.model), "pixel paths", (pair, frames), compute)
    labels = [f"t={t:.2f}" for t in paths.t]
    for title, row in zip(("Pixel blend", "The same blend through the model", "Latent morph"), pictures, strict=True):
        st.caption(title)
        show_pixels(st, row, caption=labels, alt=[f"{title.lower()}, at t = {t:.2f} from A to B" for t in paths.t])
    st.plotly_chart(errors, config={"displayModeBar": False}, key="morph_path_errors")


def corner_grid_block(ctx: Context) -> None:
    st.markdown("**Four corners**")
    st.caption(GRID_HELP)
    test = cached_test_set()
    columns = st.columns(5)
    rows = [
        ranged_int_input(columns[i], f"Corner {i + 1}: test #", 0, LAST_TEST_ROW, f"corner_{i}", CORNERS[i], TEST_ROWS)
        for i in range(4)
    ]
    k = columns[4].slider("Grid size k", 2, 12, 7, key="corner_k")

    def compute() -> bytes:
        grid = corner_grid(ctx.model, test.images[rows], k)
        return png_bytes(tile(grid.reshape(k * k, *grid.shape[2:]), columns=k), scale=3)

    grid_png = shared_result(model_identity(ctx.model), "corner grid", (tuple(rows), k), compute)
    labels = test.labels.numpy()
    corners = ", ".join(f"a {labels[row]} (#{row})" for row in rows)
    picture, _ = st.columns([3, 2])  # stacked to the screen's width on a phone
    show_pixels(
        picture,
        grid_png,
        caption="corners: " + corners,
        width="stretch",
        alt=f"a {k} by {k} grid of digits decoded from blends of four codes; its corners: {corners}",
    )
