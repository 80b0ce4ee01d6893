"""Pictures made for the screen: braille hover text (Plotly hover labels hold text, not images), μ ± σ
ellipse outlines, preprocessing previews and selection grids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from vae.images import as_uint8, tile

BRAILLE_BASE = 0x2800
# Dot bit for (row, column) inside one 4×2 braille cell (Unicode's dot numbering).
BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def braille(image: np.ndarray, threshold: int = 100) -> str:
    """The digit as 7 lines of 14 braille characters (each a 4×2 block of pixels): a picture that
    fits in a Plotly hover label, which can show text but not images."""
    return braille_many(image, threshold)[0]


def braille_many(images: np.ndarray, threshold: int = 100) -> list[str]:
    """`braille` for a whole batch at once (vectorised: 10,000 hover pictures in well under a second)."""
    # Each cell's code is the sum of the bits of its dots that are above the threshold.
    pixels = as_uint8(images) > threshold
    count = len(pixels)
    bits = np.array(BRAILLE_BITS, dtype=np.uint32)  # [4 rows, 2 columns] inside a cell
    cells = pixels.reshape(count, 7, 4, 14, 2)  # [N, cell row, dot row, cell column, dot column]
    codes = (cells * bits[None, None, :, None, :]).sum(axis=(2, 4), dtype=np.uint32) + BRAILLE_BASE
    lines = np.ascontiguousarray(codes).view("<U14").reshape(count, 7)  # 14 code points per line
    return ["<br>".join(row) for row in lines.tolist()]


def map_hover_texts(images: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> list[str]:
    """Hover text of every test digit: its index, label and a braille picture of it."""
    pictures = braille_many(np.asarray(images))
    labels = np.asarray(labels)
    return [f"#{i} · digit {int(label)}<br>{art}" for i, (label, art) in enumerate(zip(labels, pictures, strict=True))]


def ellipse_outlines(mu: torch.Tensor, logvar: torch.Tensor, points: int = 24, scale: float = 1.0) -> tuple[list, list]:
    """x and y of the μ ± scale·σ ellipses of 2-D codes, joined into one polyline with None between them."""
    angle = torch.linspace(0, 2 * torch.pi, points)
    sigma = scale * torch.exp(0.5 * logvar.float())
    xs = mu[:, :1].float() + sigma[:, :1] * torch.cos(angle)
    ys = mu[:, 1:2].float() + sigma[:, 1:2] * torch.sin(angle)
    x_out: list = []
    y_out: list = []
    for x_row, y_row in zip(xs.tolist(), ys.tolist(), strict=True):
        x_out += [*x_row, None]
        y_out += [*y_row, None]
    return x_out, y_out


def subset_rows(total: int, count: int, seed: int = 0) -> np.ndarray:
    """A reproducible random subset of row ids, sorted (for plots that cannot take every point)."""
    count = max(0, min(int(count), total))
    return np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False))


def selection_grid(
    images: torch.Tensor | np.ndarray, rows: Sequence[int], limit: int = 100, columns: int = 20
) -> np.ndarray | None:
    """The selected test digits as one tiled uint8 image (at most `limit`), None when nothing is selected."""
    rows = [int(r) for r in rows[:limit]]
    if not rows:
        return None
    return tile(as_uint8(np.asarray(images)[rows]), columns=columns)


def preview_stages(stages: dict[str, Image.Image], size: int = 112, background: int = 40) -> dict[str, Image.Image]:
    """The preprocessing stages as equal size×size tiles: big photos shrunk (smooth), tiny crops enlarged
    (crisp), each centred on a neutral square so the row of previews lines up."""
    previews = {}
    for caption, image in stages.items():
        scale = size / max(image.width, image.height)
        new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST
        tile_image = Image.new("L", (size, size), background)
        tile_image.paste(
            image.convert("L").resize(new_size, resample), ((size - new_size[0]) // 2, (size - new_size[1]) // 2)
        )
        previews[caption] = tile_image
    return previews
