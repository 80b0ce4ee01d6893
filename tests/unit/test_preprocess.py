"""MNIST-style preprocessing on real images drawn with PIL (no mocks)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageOps

from vae.preprocess import (
    InvalidImageError,
    PreprocessResult,
    center_of_mass,
    image_to_mnist,
    preprocess_steps,
)

# --- helpers --------------------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def draw_seven(size: int = 200, ink: int = 0, paper: int = 255, width: int = 18) -> Image.Image:
    """A "7": a top bar and a slanted stem, drawn in grey level `ink` on `paper`."""
    img = Image.new("L", (size, size), paper)
    s = size / 200
    ImageDraw.Draw(img).line([(50 * s, 40 * s), (150 * s, 40 * s), (90 * s, 170 * s)], fill=ink, width=width)
    return img


def draw_seven_rgba(stroke: tuple[int, int, int, int], transparent: tuple[int, int, int, int]) -> Image.Image:
    """A drawing-canvas image: transparent where untouched, opaque strokes."""
    img = Image.new("RGBA", (200, 200), transparent)
    ImageDraw.Draw(img).line([(50, 40), (150, 40), (90, 170)], fill=stroke, width=18)
    return img


def ink_bbox(image: np.ndarray, threshold: float = 0.05) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) inclusive of pixels above threshold."""
    rows = np.flatnonzero((image > threshold).any(axis=1))
    cols = np.flatnonzero((image > threshold).any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])


def as_image(tensor: torch.Tensor) -> np.ndarray:
    return tensor.reshape(28, 28).numpy()


def assert_valid(tensor: torch.Tensor) -> None:
    assert tensor.shape == (1, 1, 28, 28)
    assert tensor.dtype == torch.float32
    assert float(tensor.min()) >= 0.0
    assert float(tensor.max()) <= 1.0
    assert float(tensor.max()) > 0.9  # real ink, not a faint smudge


def assert_mnist_like(image: np.ndarray) -> None:
    """Ink fills a ~20-pixel box, stays inside the frame, and is centred by mass."""
    top, left, bottom, right = ink_bbox(image)
    longest = max(bottom - top + 1, right - left + 1)
    assert 18 <= longest <= 20
    assert top >= 0 and left >= 0 and bottom <= 27 and right <= 27
    cy, cx = center_of_mass(image)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0


def crafted_png(width: int, height: int, mode: str = "L") -> bytes:
    """A real 1x1 PNG whose header is patched to claim width x height (cheap decompression bomb)."""
    data = bytearray(encode(Image.new(mode, (1, 1), 0)))
    # Layout: 8-byte signature, IHDR length (4), b"IHDR" (4), 13 data bytes, CRC over type + data.
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def animated(fmt: str) -> bytes:
    frames = [draw_seven(64), ImageOps.invert(draw_seven(64))]  # distinct, so the encoder keeps both
    if fmt == "GIF":
        frames = [f.convert("P") for f in frames]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


# --- the pipeline on good input ---------------------------------------------------------------------


def test_output_shape_dtype_and_range() -> None:
    tensor = image_to_mnist(encode(draw_seven()))
    assert_valid(tensor)
    assert_mnist_like(as_image(tensor))


def test_preprocess_steps_exposes_every_stage() -> None:
    result = preprocess_steps(encode(draw_seven()))
    assert isinstance(result, PreprocessResult)
    assert result.inverted  # black ink on white paper
    for full_size in (result.grayscale, result.background, result.ink, result.kept):
        assert full_size.shape == (200, 200)
    assert max(result.fitted.shape) == 20
    assert result.mnist.shape == (28, 28)
    assert torch.equal(result.tensor.reshape(28, 28), torch.from_numpy(result.mnist))
    for stage in (result.grayscale, result.background, result.ink, result.kept, result.cropped, result.fitted):
        assert stage.dtype == np.float32
        assert stage.min() >= 0.0 and stage.max() <= 1.0
    assert float(np.abs(result.background - 1.0).max()) < 0.02  # white paper, evenly lit
    assert list(result.stages()) == [
        "Photo, upright",
        "Paper and light",
        "Ink",
        "Digit kept",
        "MNIST strokes",
        "Fitted to 20x20",
        "Centred in 28x28",
    ]
    assert (result.source.format, result.source.orientation, result.source.first_of_frames) == ("PNG", 1, 1)
    assert all(im.mode == "L" for im in result.stages().values())
    assert torch.equal(image_to_mnist(encode(draw_seven())), result.tensor)


def test_black_on_white_equals_white_on_black() -> None:
    dark_ink = image_to_mnist(encode(draw_seven(ink=0, paper=255)))
    light_ink = image_to_mnist(encode(draw_seven(ink=255, paper=0)))
    assert not preprocess_steps(encode(draw_seven(ink=255, paper=0))).inverted
    assert torch.allclose(dark_ink, light_ink, atol=1e-3)


def test_grey_paper_and_grey_ink_normalised() -> None:
    """A photo-like image (grey paper, dark-grey pen) gives the same digit as clean black on white."""
    clean = image_to_mnist(encode(draw_seven(ink=0, paper=255)))
    photo = image_to_mnist(encode(draw_seven(ink=60, paper=190)))
    assert torch.allclose(clean, photo, atol=0.02)


def test_light_noise_does_not_grow_the_box() -> None:
    rng = np.random.default_rng(0)
    clean = np.asarray(draw_seven(), dtype=np.float32)
    noisy = np.clip(clean + rng.normal(0.0, 6.0, clean.shape), 0, 255).astype(np.uint8)
    clean_result = preprocess_steps(encode(draw_seven()))
    noisy_result = preprocess_steps(encode(Image.fromarray(noisy)))
    assert noisy_result.cropped.shape == clean_result.cropped.shape
    assert float(np.abs(noisy_result.mnist - clean_result.mnist).max()) < 0.1


@pytest.mark.parametrize(
    "transparent", [(0, 0, 0, 0), (255, 255, 255, 0)], ids=["black-transparent", "white-transparent"]
)
@pytest.mark.parametrize("stroke", [(0, 0, 0, 255), (255, 255, 255, 255)], ids=["black-stroke", "white-stroke"])
def test_rgba_canvas_strokes_become_ink(
    stroke: tuple[int, int, int, int], transparent: tuple[int, int, int, int]
) -> None:
    """A transparent canvas gives ink where the strokes were, whatever colour the strokes are."""
    reference = image_to_mnist(encode(draw_seven(ink=255, paper=0)))
    canvas = draw_seven_rgba(stroke, transparent)
    from_bytes = image_to_mnist(encode(canvas))
    from_pil = image_to_mnist(canvas)
    assert_valid(from_bytes)
    assert torch.allclose(from_bytes, reference, atol=1e-3)
    assert torch.equal(from_bytes, from_pil)


def test_palette_image_with_transparency() -> None:
    """A GIF-style palette image with a transparent index is composited like an RGBA canvas."""
    canvas = draw_seven_rgba((0, 0, 0, 255), (255, 255, 255, 0))
    palette = canvas.convert("RGB").quantize(colors=2)
    transparent_index = int(palette.getpixel((0, 0)))
    data = encode(palette, "GIF", transparency=transparent_index)
    reference = image_to_mnist(encode(draw_seven(ink=255, paper=0)))
    assert torch.allclose(image_to_mnist(data), reference, atol=1e-3)


def test_tall_thin_stroke_keeps_its_aspect_at_mnist_stroke_width() -> None:
    """A "1" stays a tall stroke; its width becomes MNIST's (~2.5 px in the 20 px box), not 10/261 of it."""
    img = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(img).rectangle([145, 20, 154, 280], fill=0)  # 10 wide, 261 tall
    result = preprocess_steps(encode(img))
    assert result.fitted.shape[0] == 20 and 2 <= result.fitted.shape[1] <= 4
    top, left, bottom, right = ink_bbox(result.mnist)
    assert bottom - top + 1 == 20
    assert 2 <= right - left + 1 <= 4
    assert_mnist_like(result.mnist)


def test_wide_short_stroke_keeps_its_aspect_at_mnist_stroke_width() -> None:
    img = Image.new("L", (120, 80), 255)
    ImageDraw.Draw(img).rectangle([10, 30, 109, 49], fill=0)  # 100 wide, 20 tall: a bold bar, thinned
    result = preprocess_steps(encode(img))
    assert result.fitted.shape[1] == 20 and 2 <= result.fitted.shape[0] <= 4
    assert_mnist_like(result.mnist)


@pytest.mark.parametrize("pen", [3, 8, 30], ids=["fine-pen", "marker", "fat-brush"])
def test_stroke_width_is_brought_to_mnist(pen: int) -> None:
    """The same 7 written with a fine pen or a fat brush gives nearly the same 28x28 digit."""
    reference = as_image(image_to_mnist(encode(draw_seven(400, width=14))))
    other = as_image(image_to_mnist(encode(draw_seven(400, width=pen))))
    cosine = float((reference * other).sum() / (np.linalg.norm(reference) * np.linalg.norm(other)))
    assert cosine > 0.9


@pytest.mark.parametrize("size", [64, 200, 1000])
def test_centre_of_mass_and_size_at_any_scale(size: int) -> None:
    img = draw_seven(size=size, width=max(2, size // 11))
    assert_mnist_like(as_image(image_to_mnist(encode(img))))


def test_off_centre_digit_is_recentred() -> None:
    img = Image.new("L", (300, 200), 255)
    ImageDraw.Draw(img).line([(20, 20), (70, 20), (40, 90)], fill=0, width=8)  # in the top-left corner
    assert_mnist_like(as_image(image_to_mnist(encode(img))))


def _crop(image: np.ndarray) -> np.ndarray:
    top, left, bottom, right = ink_bbox(image)
    return image[top : bottom + 1, left : right + 1]


@pytest.mark.parametrize("digit", ["1", "7"])
def test_mnist_like_28x28_digit_stays_the_same_digit(digit: str) -> None:
    """An image that is already MNIST-like (28x28, white on black, ~20 px tall) is barely changed."""
    img = Image.new("L", (28, 28), 0)
    draw = ImageDraw.Draw(img)
    if digit == "1":
        draw.line([(12, 6), (15, 5), (15, 23)], fill=255, width=3)
    else:
        draw.line([(7, 5), (21, 5), (12, 23)], fill=255, width=3)
    original = np.asarray(img, dtype=np.float32) / 255.0
    assert _crop(original).shape[0] == 20  # drawn at MNIST's size
    out = as_image(image_to_mnist(img))
    assert_mnist_like(out)
    # Already 20 px tall, so the digit is only moved, not redrawn: the ink itself is unchanged.
    before, after = _crop(original), _crop(out)
    assert before.shape == after.shape
    cosine = float((before * after).sum() / (np.linalg.norm(before) * np.linalg.norm(after)))
    assert cosine > 0.95
    if digit == "1":  # still a narrow upright stroke
        top, left, bottom, right = ink_bbox(out)
        assert right - left + 1 <= 8 and bottom - top + 1 == 20


@pytest.mark.parametrize(
    ("fmt", "kwargs", "atol"),
    [
        ("PNG", {}, 1e-3),
        ("JPEG", {"quality": 90}, 0.25),
        ("GIF", {}, 1e-3),
        ("BMP", {}, 1e-3),
        ("WEBP", {"lossless": True}, 1e-3),
        ("WEBP", {"quality": 90}, 0.25),
    ],
)
def test_accepted_formats_round_trip(fmt: str, kwargs: dict[str, object], atol: float) -> None:
    reference = image_to_mnist(encode(draw_seven()))
    source = draw_seven().convert("RGB") if fmt == "JPEG" else draw_seven()
    tensor = image_to_mnist(encode(source, fmt, **kwargs))
    assert_valid(tensor)
    assert_mnist_like(as_image(tensor))
    assert float((tensor - reference).abs().max()) <= atol
    assert float((tensor - reference).abs().mean()) <= 0.02


def test_camera_jpeg_with_extra_pictures_is_accepted() -> None:
    """Pillow reads many camera JPEGs as MPO (several embedded pictures); the first is the photo."""
    data = encode(draw_seven().convert("RGB"), "MPO", save_all=True, append_images=[draw_seven(64).convert("RGB")])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert_mnist_like(as_image(image_to_mnist(data)))


def test_bytearray_and_memoryview_accepted() -> None:
    data = encode(draw_seven())
    expected = image_to_mnist(data)
    assert torch.equal(image_to_mnist(bytearray(data)), expected)  # type: ignore[arg-type]
    assert torch.equal(image_to_mnist(memoryview(data)), expected)  # type: ignore[arg-type]


def test_wrong_argument_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        image_to_mnist("digit.png")  # type: ignore[arg-type]


def test_tiny_image_with_ink_does_not_crash() -> None:
    img = Image.new("L", (3, 3), 255)
    img.putpixel((1, 1), 0)
    assert_valid(image_to_mnist(img))


# --- every format Pillow reads ----------------------------------------------------------------------


def _sixteen_bit_png() -> bytes:
    array = (np.asarray(draw_seven(), dtype=np.uint16) * 257).astype(np.uint16)
    data = encode(Image.fromarray(array))
    assert Image.open(io.BytesIO(data)).mode in {"I;16", "I;16B", "I"}
    return data


READABLE = {
    "cmyk-jpeg": lambda: encode(draw_seven().convert("CMYK"), "JPEG", quality=95),
    "16-bit-png": _sixteen_bit_png,
    "palette-png": lambda: encode(draw_seven().convert("P")),
    "1-bit-png": lambda: encode(draw_seven().convert("1")),
    "la-png": lambda: encode(draw_seven().convert("LA")),
    "tiff": lambda: encode(draw_seven(), "TIFF"),
    "ico": lambda: encode(draw_seven(), "ICO", sizes=[(200, 200)]),
}


@pytest.mark.parametrize("name", list(READABLE))
def test_every_pillow_format_and_mode_is_read(name: str) -> None:
    reference = image_to_mnist(encode(draw_seven()))
    tensor = image_to_mnist(READABLE[name]())
    assert_mnist_like(as_image(tensor))
    assert float((tensor - reference).abs().mean()) <= 0.02


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animation_gives_its_first_frame_and_says_so(fmt: str) -> None:
    result = preprocess_steps(animated(fmt))
    assert result.source.first_of_frames == 2
    first = image_to_mnist(encode(draw_seven(64)))
    assert float((result.tensor - first).abs().mean()) <= 0.02


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation: int) -> None:
    """A phone stores the pixels sideways with a tag; the digit must come out upright."""
    from harness.photos import jpeg_bytes

    upright = Image.new("RGB", (300, 400), "white")
    upright.paste(draw_seven(300).convert("RGB"), (0, 50))
    reference = image_to_mnist(jpeg_bytes(upright, 95))
    stored = jpeg_bytes(upright, 95, orientation)
    assert Image.open(io.BytesIO(stored)).size == ((300, 400) if orientation == 3 else (400, 300))
    result = preprocess_steps(stored)
    assert result.source.orientation == orientation
    assert result.grayscale.shape == (400, 300)
    assert float((result.tensor - reference).abs().mean()) <= 0.02


def test_big_phone_photo_is_read_at_reduced_size() -> None:
    img = draw_seven(4000).convert("RGB")
    result = preprocess_steps(encode(img, "JPEG", quality=85))
    assert result.source.original_size == (4000, 4000)
    assert max(result.grayscale.shape) <= 640
    assert_mnist_like(result.mnist)


# --- bad input --------------------------------------------------------------------------------------


def _truncated_png() -> bytes:
    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 256, (200, 200), dtype=np.uint8)  # incompressible, so half a file is half the pixels
    data = encode(Image.fromarray(noisy))
    return data[: len(data) // 2]


BAD_BYTES = {
    "empty": lambda: b"",
    "not-an-image": lambda: b"not an image",
    "over-20-MB": lambda: b"\x89PNG" + bytes(21 * 2**20),
    "truncated-png": _truncated_png,
    "bomb-over-our-limit": lambda: crafted_png(9000, 9000),
    "bomb-pillow-warning": lambda: crafted_png(10_000, 10_000),
    "bomb-pillow-error": lambda: crafted_png(100_000, 100_000),
    "too-big-to-decode-in-full": lambda: crafted_png(7000, 7000, "RGB"),
    "all-white": lambda: encode(Image.new("L", (64, 64), 255)),
    "all-black": lambda: encode(Image.new("L", (64, 64), 0)),
    "all-grey-jpeg": lambda: encode(Image.new("RGB", (64, 64), (128, 128, 128)), "JPEG"),
    "noisy-blank-paper": lambda: encode(
        Image.fromarray(np.clip(np.random.default_rng(0).normal(200, 6, (300, 400)), 0, 255).astype(np.uint8)), "JPEG"
    ),
    "transparent-canvas": lambda: encode(Image.new("RGBA", (64, 64), (0, 0, 0, 0))),
    "one-pixel": lambda: encode(Image.new("L", (1, 1), 0)),
}


def _assert_refused(data: bytes | Image.Image) -> str:
    with pytest.raises(InvalidImageError) as info:
        image_to_mnist(data)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.strip() and "\n" not in message  # one line
    assert message[0].isupper() and message.rstrip().endswith(".")
    for jargon in ("PIL", "Traceback", "mode", "IHDR", "errno"):
        assert jargon not in message
    return message


@pytest.mark.parametrize("name", list(BAD_BYTES))
def test_bad_input_raises_invalid_image_error(name: str) -> None:
    _assert_refused(BAD_BYTES[name]())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty", "empty"),
        ("not-an-image", "not an image"),
        ("over-20-MB", "20 MB"),
        ("truncated-png", "damaged"),
        ("bomb-over-our-limit", "too large"),
        ("bomb-pillow-warning", "too large"),
        ("bomb-pillow-error", "too large"),
        ("too-big-to-decode-in-full", "JPEG"),
        ("all-white", "blank"),
        ("all-black", "blank"),
        ("noisy-blank-paper", "blank"),
        ("transparent-canvas", "blank"),
    ],
)
def test_bad_input_message_says_what_is_wrong(name: str, expected: str) -> None:
    assert expected in _assert_refused(BAD_BYTES[name]())


def test_pillow_pixel_limit_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Pillow's own bomb limit lowered, a modest image trips it and is refused, not warned about."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = encode(draw_seven(64))  # 4096 pixels: over 2x the limit -> Pillow raises
    assert "too large" in _assert_refused(data)
    data = encode(draw_seven(40))  # 1600 pixels: over the limit -> Pillow only warns; we refuse
    assert "too large" in _assert_refused(data)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("I;16", (32, 32), 1000),
        Image.new("I", (32, 32), 1000),
        Image.new("F", (32, 32), 0.5),
        Image.new("CMYK", (32, 32), (0, 0, 0, 255)),
        Image.new("RGB", (1, 1), (255, 255, 255)),
        Image.new("L", (20_000, 10), 0),
    ],
    ids=["I;16", "I", "F", "CMYK", "1x1", "too-wide"],
)
def test_blank_or_oversized_pil_images_refused(image: Image.Image) -> None:
    _assert_refused(image)
