"""Pictures made for the screen: preprocessing previews, selection grids, PNG data URIs, and st.image for
pixels."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from vae.images import as_uint8, png_bytes, tile


def show_pixels(place: Any, image: Any, *, alt: str | list[str], **options: Any) -> None:
    """st.image (on `place`: st, a column or a container) for digits, grids and codes: always PNG. Streamlit's
    "auto" makes a JPEG of any grey picture, a PNG given to it included, on every run: blurred pixel edges,
    and most of a run's time in a view of many small pictures. `alt` is required: a screen reader says it."""
    place.image(image, output_format="PNG", alt=alt, **options)


def subset_rows(total: int, count: int, seed: int = 0) -> np.ndarray:
    """A reproducible random subset of row ids, sorted (for plots that cannot take every point)."""
    count = max(0, min(int(count), total))
    return np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False))


def selection_grid(
    images: torch.Tensor | np.ndarray, rows: Sequence[int], limit: int = 100, columns: int = 20
) -> np.ndarray | None:
    """The selected test digits as one tiled uint8 image, None when nothing is selected. Past `limit`, a
    reproducible random `limit` of them in selection order: the first ones would show one cluster alone (a
    box over the 1s, 2s and 7s showed a hundred 1s)."""
    rows = [int(r) for r in rows]
    if len(rows) > limit:
        rows = [rows[i] for i in subset_rows(len(rows), limit)]
    if not rows:
        return None
    return tile(as_uint8(np.asarray(images)[rows]), columns=columns)


LIGHT_STAGE = "Paper and light"  # vae.preprocess's estimate of the page without ink: nearly one grey
# The stages cut to the digit's box: its strokes touch the crop's edges and looked cut off against the tile.
CROP_STAGES = ("MNIST strokes", "Fitted to 20x20")
CROP_MARGIN = 0.08  # of the crop's longer side, in black, around those two
FRAME_GREY = 128  # a 1-pixel frame on every tile: a white stage (clean paper's light) on a white page showed nothing


def preview_stages(stages: dict[str, Image.Image], size: int = 112, background: int = 40) -> dict[str, Image.Image]:
    """The preprocessing stages as equal size×size tiles: big photos shrunk (smooth), tiny crops enlarged
    (crisp, with a black margin), each centred on a neutral framed square so the row of previews lines up.
    The paper-and-light stage is shown contrast-stretched: its few grey levels of uneven light would
    otherwise look like a blank square."""
    previews = {}
    for caption, image in stages.items():
        if caption == LIGHT_STAGE:
            image, caption = ImageOps.autocontrast(image.convert("L")), f"{LIGHT_STAGE} (contrast stretched)"
        if caption in CROP_STAGES:
            image = ImageOps.expand(image, border=max(1, round(CROP_MARGIN * max(image.size))), fill=0)
        inner = size - 2  # inside the frame
        scale = inner / max(image.width, image.height)
        new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST
        tile_image = Image.new("L", (inner, inner), background)
        tile_image.paste(
            # reducing_gap: a box reduction first, then Lanczos on the rest (Pillow's thumbnail does so)
            image.convert("L").resize(new_size, resample, reducing_gap=3.0),
            ((inner - new_size[0]) // 2, (inner - new_size[1]) // 2),
        )
        previews[caption] = ImageOps.expand(tile_image, border=1, fill=FRAME_GREY)
    return previews


def png_data_uri(image: np.ndarray, scale: int = 1) -> str:
    """A uint8 picture as a PNG data URI: what Plotly can place on a figure, or a page show inline."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, scale=scale)).decode("ascii")
