"""Turning decoded digits into things a person sees: crisp enlargements, grids, PNGs and GIFs."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from vae.mnist_shape import IMAGE_SIDE


def as_uint8(images: np.ndarray | Sequence) -> np.ndarray:
    """uint8 [N, 28, 28] from uint8 or [0, 1] floats, any leading shape such as [N, 1, 28, 28]."""
    array = np.asarray(images)
    if array.dtype != np.uint8:
        # A diverged model decodes NaN: black, rather than whatever the cast would make of it.
        array = (np.clip(np.nan_to_num(array.astype(np.float32)), 0, 1) * 255).round().astype(np.uint8)
    return array.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def enlarge(image: np.ndarray, scale: int = 8) -> Image.Image:
    """Upscale with nearest neighbour: every pixel a crisp square, no blurring."""
    pixels = as_uint8(image)[0]
    return Image.fromarray(pixels, mode="L").resize((IMAGE_SIDE * scale, IMAGE_SIDE * scale), Image.Resampling.NEAREST)


def tile(images: np.ndarray, columns: int, pad: int = 2, background: int = 40) -> np.ndarray:
    """A grid of digits in one uint8 image, `pad` pixels of `background` between them."""
    images = as_uint8(images)
    count = len(images)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    cell = IMAGE_SIDE + pad
    canvas = np.full((rows * cell + pad, columns * cell + pad), background, dtype=np.uint8)
    for index, image in enumerate(images):
        r, c = divmod(index, columns)
        top, left = pad + r * cell, pad + c * cell
        canvas[top : top + IMAGE_SIDE, left : left + IMAGE_SIDE] = image
    return canvas


def png_bytes(image: np.ndarray | Image.Image, scale: int = 1) -> bytes:
    picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: np.ndarray, scale: int = 6, frame_ms: int = 120, bounce: bool = True) -> bytes:
    """An endlessly looping animated GIF of the frames (forwards, then back when `bounce`)."""
    images = [enlarge(frame, scale) for frame in as_uint8(frames)]
    if bounce and len(images) > 2:
        images = images + images[-2:0:-1]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
