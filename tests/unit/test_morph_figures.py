"""The lecture's missing morph figures (vae/morph.py): the pixel path, the same path through the model,
and the 4-corner grid of decoded bilinear blends."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae.codes import encode_means
from vae.config import ModelConfig
from vae.images import as_uint8
from vae.latent import decode_to_uint8
from vae.model import build_model
from vae.morph import corner_codes, corner_grid, pixel_blend, pixel_paths, reconstruction_errors


@pytest.fixture(params=["vae", "ae"])
def model(request):
    torch.manual_seed(0)
    return build_model(ModelConfig(kind=request.param, hidden_dim=16, latent_dim=3)).eval()


def digits(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 28, 28), dtype=np.float32)


def test_the_pixel_paths_ends_are_the_two_images_and_its_middle_their_average():
    a, b = digits(2)
    blend = pixel_blend(a, b, 3)
    assert blend.shape == (5, 784)
    assert np.array_equal(blend[0], a.reshape(-1)) and np.array_equal(blend[-1], b.reshape(-1))
    assert np.allclose(blend[2], (a + b).reshape(-1) / 2, atol=1e-6)
    uint = pixel_blend(as_uint8(a), as_uint8(b), 1)  # uint8 images are scaled to [0, 1]
    assert np.allclose(uint[0] * 255, as_uint8(a).reshape(-1))


def test_the_three_paths_share_their_ends_and_have_an_error_per_frame(model):
    a, b = digits(2)
    paths = pixel_paths(model, a, b, 4)
    assert paths.pixel.shape == paths.through.shape == paths.latent.shape == (6, 28, 28)
    assert np.array_equal(paths.pixel[[0, -1]].reshape(2, -1), as_uint8(np.stack([a, b])).reshape(2, -1))
    ends = decode_to_uint8(model, encode_means(model, np.stack([a, b]))).numpy()
    assert np.array_equal(paths.latent[[0, -1]], ends)  # the latent morph starts and ends at the reconstructions
    assert all(len(e) == 6 and np.all(e > 0) for e in paths.errors.values())
    ends_error = reconstruction_errors(model, np.stack([a, b]))
    assert np.allclose(paths.errors["pixel blend"][[0, -1]], ends_error, rtol=1e-5)


def test_the_corner_grids_corners_are_the_four_reconstructions_and_its_rows_linear_blends(model):
    images = digits(4, seed=1)
    k = 5
    grid = corner_grid(model, images, k)
    assert grid.shape == (k, k, 28, 28)
    recon = decode_to_uint8(model, encode_means(model, images)).numpy()
    corners = [grid[0, 0], grid[0, -1], grid[-1, 0], grid[-1, -1]]
    for corner, reconstruction in zip(corners, recon, strict=True):
        assert np.array_equal(corner, reconstruction)
    codes = corner_codes(encode_means(model, images), k)
    for row in range(k):  # each row is the straight line between its two ends' codes
        left, right = codes[row, 0], codes[row, -1]
        for column in range(k):
            t = column / (k - 1)
            assert torch.allclose(codes[row, column], (1 - t) * left + t * right, atol=1e-5)
        assert np.array_equal(grid[row], decode_to_uint8(model, codes[row]).numpy())
    mu = encode_means(model, images)
    assert torch.allclose(codes[k // 2, 0], (mu[0] + mu[2]) / 2, atol=1e-5)  # the left edge: A to C
