"""Pictures made for the screen: μ ± σ ellipse outlines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.ui.pictures import ellipse_outlines


def digits(count: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


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
