"""Image helpers: uint8 conversion, crisp enlargements, grids, PNG, animated GIF."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image, ImageSequence

from vae.images import as_uint8, enlarge, gif_bytes, png_bytes, tile


def digits(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def distinct_frames(n: int) -> np.ndarray:
    """n clearly different frames: a bar that moves down the image."""
    frames = np.zeros((n, 28, 28), dtype=np.uint8)
    for i in range(n):
        frames[i, 2 * i : 2 * i + 3, :] = 255
    return frames


# ---------------------------------------------------------------- as_uint8


def test_as_uint8_from_floats() -> None:
    floats = np.zeros((2, 784), dtype=np.float32)
    floats[0, :4] = [0.0, 0.5, 1.0, 0.2]
    floats[1, :3] = [-0.2, 1.7, 0.999]
    out = as_uint8(floats)
    assert out.dtype == np.uint8
    assert out.shape == (2, 28, 28)
    # round(x·255) after clipping to [0, 1]: 0.5 → 127.5 → 128 (half to even), 0.2 → 51
    assert out[0, 0, :4].tolist() == [0, 128, 255, 51]
    assert out[1, 0, :3].tolist() == [0, 255, 255]


def test_as_uint8_from_model_output_shape() -> None:
    probabilities = np.linspace(0, 1, 3 * 784, dtype=np.float32).reshape(3, 1, 28, 28)
    out = as_uint8(probabilities)
    assert out.shape == (3, 28, 28)
    np.testing.assert_array_equal(out, np.round(probabilities[:, 0] * 255).astype(np.uint8))


def test_as_uint8_draws_nan_as_black() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns when it casts NaN to an integer
        out = as_uint8(np.full((1, 784), np.nan, dtype=np.float32))
    assert out.shape == (1, 28, 28) and not out.any()


def test_as_uint8_keeps_bytes() -> None:
    images = digits(2)
    np.testing.assert_array_equal(as_uint8(images), images)
    np.testing.assert_array_equal(as_uint8(images[0]), images[:1])
    as_list = (images[:1] / 255.0).tolist()  # nested lists of [0, 1] floats
    np.testing.assert_array_equal(as_uint8(as_list), images[:1])


# ---------------------------------------------------------------- enlarge and tile


@pytest.mark.parametrize("scale", [1, 4, 8])
def test_enlarge_is_nearest_neighbour(scale: int) -> None:
    image = digits(1)[0]
    big = enlarge(image, scale)
    assert big.size == (28 * scale, 28 * scale)
    assert big.mode == "L"
    pixels = np.asarray(big)
    blocks = pixels.reshape(28, scale, 28, scale)
    # every scale×scale block is one constant value: the original pixel
    np.testing.assert_array_equal(blocks.min(axis=(1, 3)), image)
    np.testing.assert_array_equal(blocks.max(axis=(1, 3)), image)


def test_enlarge_of_probabilities() -> None:
    image = np.zeros((1, 1, 28, 28), dtype=np.float32)
    image[0, 0, 3, 5] = 1.0
    pixels = np.asarray(enlarge(image, 2))
    assert pixels[6:8, 10:12].tolist() == [[255, 255], [255, 255]]
    assert int(pixels.sum()) == 4 * 255


def test_tile_layout() -> None:
    images = digits(5)
    canvas = tile(images, columns=3, pad=2, background=40)
    assert canvas.dtype == np.uint8
    assert canvas.shape == (2 * 30 + 2, 3 * 30 + 2)  # 2 rows, 3 columns of 28 + 2, plus the last pad
    np.testing.assert_array_equal(canvas[2:30, 2:30], images[0])
    np.testing.assert_array_equal(canvas[2:30, 62:90], images[2])
    np.testing.assert_array_equal(canvas[32:60, 32:60], images[4])
    assert (canvas[32:60, 62:90] == 40).all()  # the empty sixth cell
    assert (canvas[:2] == 40).all()
    assert (canvas[:, 30:32] == 40).all()


def test_tile_with_more_columns_than_images() -> None:
    canvas = tile(digits(2), columns=10, pad=0)
    assert canvas.shape == (28, 56)


# ---------------------------------------------------------------- PNG and GIF


def test_png_bytes_decode_back() -> None:
    image = digits(1)[0]
    payload = png_bytes(image)
    assert payload.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(payload))), image)
    scaled = np.asarray(Image.open(io.BytesIO(png_bytes(image, scale=3))))
    assert scaled.shape == (84, 84)
    np.testing.assert_array_equal(scaled[::3, ::3], image)
    picture = enlarge(image, 2)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(picture)))), np.asarray(picture))


@pytest.mark.parametrize(("count", "bounce", "expected"), [(5, True, 8), (5, False, 5), (2, True, 2), (3, True, 4)])
def test_gif_frame_count(count: int, bounce: bool, expected: int) -> None:
    payload = gif_bytes(distinct_frames(count), scale=2, frame_ms=80, bounce=bounce)
    gif = Image.open(io.BytesIO(payload))
    assert gif.format == "GIF"
    assert gif.is_animated
    assert gif.n_frames == expected
    assert gif.size == (56, 56)
    assert gif.info.get("loop") == 0  # loops forever
    assert gif.info.get("duration") == 80


def test_gif_bounces_back() -> None:
    frames = distinct_frames(4)
    gif = Image.open(io.BytesIO(gif_bytes(frames, scale=1)))
    decoded = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)]
    order = [0, 1, 2, 3, 2, 1]
    assert len(decoded) == len(order)
    for got, index in zip(decoded, order, strict=True):
        np.testing.assert_array_equal(got, frames[index])
