"""Digits drawn by hand in code: MNIST-like 28x28 strokes for the photo and browser tests."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def drawn_digit(strokes: list[list[tuple[float, float]]], width: int = 2) -> np.ndarray:
    """A 28x28 MNIST-like digit (light on black, floats in [0, 1]) drawn at 4x and shrunk (antialiased)."""
    img = Image.new("L", (112, 112), 0)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        draw.line([(4 * x, 4 * y) for x, y in stroke], fill=255, width=4 * width, joint="curve")
    return np.asarray(img.resize((28, 28), Image.Resampling.BOX), dtype=np.float32) / 255.0


SEVEN = drawn_digit([[(8, 5), (20, 5), (12, 23)], [(10, 14), (18, 14)]])  # with a bar, as many write it
FOUR = drawn_digit([[(15, 4), (7, 16), (21, 16)], [(17, 9), (17, 24)]])  # two strokes: the stem apart
