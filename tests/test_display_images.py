"""Pictures made for the screen: braille hover text and μ ± σ ellipse outlines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.display_images import BRAILLE_BASE, braille, braille_many, ellipse_outlines


def digits(count: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


# ---------------------------------------------------------------- braille


def braille_lines(text: str) -> list[str]:
    return text.split("<br>")


def test_braille_layout() -> None:
    lines = braille_lines(braille(digits(1)[0]))
    assert len(lines) == 7
    assert all(len(line) == 14 for line in lines)
    assert all(BRAILLE_BASE <= ord(c) <= BRAILLE_BASE + 0xFF for line in lines for c in line)


def test_braille_black_and_white() -> None:
    assert braille(np.zeros((28, 28), dtype=np.uint8)) == "<br>".join(["\u2800" * 14] * 7)
    assert braille(np.full((28, 28), 255, dtype=np.uint8)) == "<br>".join(["\u28ff" * 14] * 7)
    assert braille(np.ones((1, 28, 28), dtype=np.float32)) == "<br>".join(["\u28ff" * 14] * 7)


@pytest.mark.parametrize(
    ("row", "col", "bit"),
    # Unicode dot numbering: dots 1-2-3 down the left column, 4-5-6 down the right, 7 and 8 below
    [(0, 0, 0x01), (1, 0, 0x02), (2, 0, 0x04), (0, 1, 0x08), (1, 1, 0x10), (2, 1, 0x20), (3, 0, 0x40), (3, 1, 0x80)],
)
def test_braille_dot_positions(row: int, col: int, bit: int) -> None:
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4 + row, 2 * 3 + col] = 255  # inside the cell of line 1, character 3
    lines = braille_lines(braille(image))
    assert lines[1][3] == chr(0x2800 + bit)
    assert sum(c != "\u2800" for line in lines for c in line) == 1


def test_braille_threshold() -> None:
    image = np.full((28, 28), 100, dtype=np.uint8)
    assert set(braille(image).replace("<br>", "")) == {"\u2800"}  # not above 100
    assert set(braille(image, threshold=99).replace("<br>", "")) == {"\u28ff"}


def test_braille_many_draws_each_image_of_a_batch() -> None:
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[1] = 255
    images[2, 4, 7] = 255  # line 1, character 3, right column, top dot: bit 0x08
    blank, full = "<br>".join(["\u2800" * 14] * 7), "<br>".join(["\u28ff" * 14] * 7)
    texts = braille_many(images)
    assert texts[:2] == [blank, full]
    lines = braille_lines(texts[2])
    assert lines[1][3] == "\u2808" and sum(c != "\u2800" for line in lines for c in line) == 1
    assert braille_many(images, threshold=255) == [blank, blank, blank]


def test_ellipse_outlines() -> None:
    mu = torch.tensor([[1.0, 2.0], [0.0, 0.0], [-1.0, 5.0]])
    logvar = torch.tensor([[math.log(4.0), 0.0], [0.0, 0.0], [0.0, math.log(9.0)]])
    xs, ys = ellipse_outlines(mu, logvar, points=5)  # angles 0, π/2, π, 3π/2, 2π
    assert len(xs) == len(ys) == 3 * (5 + 1)
    assert [i for i, v in enumerate(xs) if v is None] == [5, 11, 17]
    assert [i for i, v in enumerate(ys) if v is None] == [5, 11, 17]
    # first ellipse: centre (1, 2), σ = (2, 1)
    assert xs[0:5] == pytest.approx([3.0, 1.0, -1.0, 1.0, 3.0], abs=1e-5)
    assert ys[0:5] == pytest.approx([2.0, 3.0, 2.0, 1.0, 2.0], abs=1e-5)
    # magnified: the radii scale, the centres stay
    big_x, big_y = ellipse_outlines(mu, logvar, points=5, scale=3.0)
    assert big_x[0:5] == pytest.approx([7.0, 1.0, -5.0, 1.0, 7.0], abs=1e-5)
    assert big_y[0:5] == pytest.approx([2.0, 5.0, 2.0, -1.0, 2.0], abs=1e-5)
    # third: centre (−1, 5), σ = (1, 3)
    assert xs[12:17] == pytest.approx([0.0, -1.0, -2.0, -1.0, 0.0], abs=1e-5)
    assert ys[12:17] == pytest.approx([5.0, 8.0, 5.0, 2.0, 5.0], abs=1e-5)
