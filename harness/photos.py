"""Realistic phone photos of handwritten digits, made from MNIST *training* digits (test tooling).

Each photo is a training digit rendered as pen (or chalk) strokes on paper, then put through what a
phone and a desk do to it: paper tint, a light gradient, a vignette, a shadow band, ruled or squared
paper, blue ink, noise and blur, tilt, scale and position, JPEG quality 60–95, an EXIF orientation
tag (the pixels stored sideways, as phones do), a chalkboard, the page edge with the table beyond.
Its *clean source* is the same digit at the same size, black on white, as an editor would draw it.

It is test tooling, never shipped, so it is not in `vae/`: tests/unit/test_photo_reading.py and
bench/photo_reading.py both use it, so the test's subset is exactly a slice of what the benchmark measures.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

# EXIF orientation tag → the transpose that turns the upright picture into the stored pixels
# (the inverse of what a viewer, or ImageOps.exif_transpose, applies).
_STORE_SIDEWAYS = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
ORIENTATION_TAG = 0x0112


@dataclass(frozen=True)
class Photo:
    kind: str
    index: int  # row in the MNIST training split
    label: int
    photo: bytes  # JPEG as a phone would send it
    clean: bytes  # PNG: the same digit, same size, black on white
    orientation: int  # EXIF orientation tag (1 = upright)


@dataclass
class Scene:
    """Everything one photo is made of; each kind changes a few fields of a random base scene."""

    width: int
    height: int
    paper: np.ndarray  # RGB in [0, 1]
    ink: np.ndarray  # RGB in [0, 1]
    digit_height: float  # pixels
    centre: tuple[float, float]  # (x, y) of the digit
    tilt: float  # degrees
    thinness: float  # threshold on the upsampled digit: higher → thinner strokes
    light: float  # overall brightness
    gradient: float  # relative change across the page
    gradient_angle: float
    vignette: float
    shadow: float  # 0 = none, else the depth of a soft dark band
    lines: str = ""  # "", "ruled" or "squared"
    line_spacing: float = 40.0
    noise: float = 0.015
    blur: float = 0.0
    page_edge: float = 0.0  # fraction of the width that is table, not paper
    specks: int = 0
    quality: int = 85
    orientation: int = 1


def base_scene(rng: np.random.Generator) -> Scene:
    width, height = (int(rng.integers(640, 1025)), int(rng.integers(480, 769)))
    if rng.random() < 0.5:
        width, height = height, width
    side = min(width, height)
    tint = rng.uniform(-0.04, 0.04, 3)
    return Scene(
        width=width,
        height=height,
        paper=np.clip(rng.uniform(0.82, 0.96) + tint, 0, 1),
        ink=np.array([0.08, 0.08, 0.1]) + rng.uniform(0, 0.08),
        digit_height=rng.uniform(0.25, 0.55) * side,
        centre=(width / 2 + rng.uniform(-0.15, 0.15) * width, height / 2 + rng.uniform(-0.15, 0.15) * height),
        tilt=rng.uniform(-6, 6),
        thinness=rng.uniform(0.3, 0.75),
        light=rng.uniform(0.7, 1.05),
        gradient=rng.uniform(0.0, 0.25),
        gradient_angle=rng.uniform(0, 2 * np.pi),
        vignette=rng.uniform(0.0, 0.15),
        shadow=0.0,
        line_spacing=rng.uniform(0.06, 0.1) * side,
        noise=rng.uniform(0.005, 0.02),
        quality=int(rng.integers(60, 96)),
    )


def _uneven_light(s: Scene, rng: np.random.Generator) -> None:
    s.gradient, s.vignette, s.light = rng.uniform(0.35, 0.6), rng.uniform(0.25, 0.45), rng.uniform(0.55, 0.9)


def _shadow(s: Scene, rng: np.random.Generator) -> None:
    s.shadow = rng.uniform(0.3, 0.55)


def _ruled(s: Scene, rng: np.random.Generator) -> None:
    s.lines = "ruled"


def _squared(s: Scene, rng: np.random.Generator) -> None:
    s.lines = "squared"


def _blue_pen(s: Scene, rng: np.random.Generator) -> None:
    s.ink = np.array([0.1, 0.2, 0.55]) + rng.uniform(-0.05, 0.1, 3)


def _noise_blur(s: Scene, rng: np.random.Generator) -> None:
    s.noise, s.blur, s.quality = rng.uniform(0.03, 0.06), rng.uniform(0.8, 2.0), int(rng.integers(60, 75))


def _small_tilted(s: Scene, rng: np.random.Generator) -> None:
    side = min(s.width, s.height)
    s.digit_height = rng.uniform(0.12, 0.22) * side
    s.centre = (s.width * rng.uniform(0.25, 0.75), s.height * rng.uniform(0.25, 0.75))
    s.tilt = rng.choice([-1, 1]) * rng.uniform(6, 12)


def _sideways(s: Scene, rng: np.random.Generator) -> None:
    s.orientation = int(rng.choice([3, 6, 8]))


def _chalkboard(s: Scene, rng: np.random.Generator) -> None:
    s.paper = np.array([0.16, 0.22, 0.19]) + rng.uniform(-0.05, 0.05, 3)
    s.ink = np.array([0.85, 0.86, 0.84]) - rng.uniform(0, 0.1)
    s.noise = rng.uniform(0.02, 0.04)


def _page_edge(s: Scene, rng: np.random.Generator) -> None:
    s.page_edge = rng.uniform(0.08, 0.18)
    s.specks = int(rng.integers(4, 12))
    s.centre = (s.centre[0] * (1 - s.page_edge) + s.page_edge * s.width * 0.5, s.centre[1])


KINDS: dict[str, Callable[[Scene, np.random.Generator], None]] = {
    "plain paper": lambda s, rng: None,
    "uneven light": _uneven_light,
    "shadow band": _shadow,
    "ruled paper": _ruled,
    "squared paper": _squared,
    "blue pen": _blue_pen,
    "noise and blur": _noise_blur,
    "small, tilted": _small_tilted,
    "EXIF sideways": _sideways,
    "chalkboard": _chalkboard,
    "page edge, specks": _page_edge,
}


def digit_alpha(digit: np.ndarray, s: Scene) -> np.ndarray:
    """Pen coverage in [0, 1] over the whole frame: the 28×28 digit enlarged, tilted and placed."""
    scale = s.digit_height / 20.0  # MNIST's digits are ~20 px tall in their 28 px frame
    size = max(8, round(28 * scale))
    big = np.asarray(Image.fromarray(digit.astype(np.float32)).resize((size, size), Image.Resampling.BICUBIC))
    big = ndi.rotate(big, s.tilt, reshape=True, order=1)
    alpha = np.clip((big - s.thinness) / 0.2, 0.0, 1.0)  # a pen's edge: a little soft, not MNIST's blur
    frame = np.zeros((s.height, s.width), dtype=np.float32)
    top, left = round(s.centre[1] - alpha.shape[0] / 2), round(s.centre[0] - alpha.shape[1] / 2)
    top, left = min(max(top, 0), s.height - alpha.shape[0]), min(max(left, 0), s.width - alpha.shape[1])
    frame[top : top + alpha.shape[0], left : left + alpha.shape[1]] = alpha
    return frame


def _line_alpha(s: Scene, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0 : s.height, 0 : s.width].astype(np.float32)
    angle = np.deg2rad(s.tilt * 0.5 + rng.uniform(-2, 2))  # the page is a little turned too
    across = yy * np.cos(angle) - xx * np.sin(angle)
    offset = rng.uniform(0, s.line_spacing)
    width = rng.uniform(0.8, 2.0)
    dist = np.abs((across + offset) % s.line_spacing - s.line_spacing / 2)
    alpha = np.clip(width / 2 + 0.5 - dist, 0, 1)
    if s.lines == "squared":
        along = xx * np.cos(angle) + yy * np.sin(angle)
        dist2 = np.abs((along + offset) % s.line_spacing - s.line_spacing / 2)
        alpha = np.maximum(alpha, np.clip(width / 2 + 0.5 - dist2, 0, 1))
    return alpha * rng.uniform(0.35, 0.6)


def _illumination(s: Scene, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0 : s.height, 0 : s.width].astype(np.float32)
    u, v = (xx / s.width - 0.5), (yy / s.height - 0.5)
    light = s.light * (1 + s.gradient * (u * np.cos(s.gradient_angle) + v * np.sin(s.gradient_angle)))
    light *= 1 - s.vignette * 2 * (u * u + v * v)
    if s.shadow:
        # A soft-edged band across the page, as an arm or a phone throws it.
        angle = rng.uniform(0, np.pi)
        across = u * np.cos(angle) + v * np.sin(angle)
        centre, half = rng.uniform(-0.3, 0.3), rng.uniform(0.1, 0.25)
        inside = 1 / (1 + np.exp((np.abs(across - centre) - half) / 0.02))
        light *= 1 - s.shadow * inside
    return light


def render(digit: np.ndarray, s: Scene, rng: np.random.Generator) -> tuple[Image.Image, Image.Image]:
    """The photo (upright, RGB) and its clean source (grey), both as PIL images."""
    alpha = digit_alpha(digit, s)
    clean = Image.fromarray(np.round(255 * (1 - alpha)).astype(np.uint8))
    paper = np.broadcast_to(s.paper, (s.height, s.width, 3)).astype(np.float32)
    if s.lines:
        line_colour = np.array([0.45, 0.55, 0.8]) if rng.random() < 0.6 else np.array([0.5, 0.5, 0.5])
        la = _line_alpha(s, rng)[..., None]
        paper = paper * (1 - la) + line_colour * la
    if s.specks:
        for _ in range(s.specks):
            y, x, r = rng.uniform(0, s.height), rng.uniform(0, s.width), rng.uniform(1.5, 4)
            yy, xx = np.ogrid[0 : s.height, 0 : s.width]
            paper = np.where(((yy - y) ** 2 + (xx - x) ** 2 < r * r)[..., None], s.ink * 1.5, paper)
    a = alpha[..., None]
    image = paper * (1 - a) + s.ink * a
    if s.page_edge:
        table = np.array([0.3, 0.22, 0.15]) + rng.uniform(-0.05, 0.05)
        image[:, : round(s.page_edge * s.width)] = table
    image = image * _illumination(s, rng)[..., None]
    if s.blur:
        image = ndi.gaussian_filter(image, sigma=(s.blur, s.blur, 0))
    image = image + rng.normal(0, s.noise, image.shape)
    photo = Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))
    return photo, clean


def jpeg_bytes(photo: Image.Image, quality: int, orientation: int = 1) -> bytes:
    """A JPEG as a phone stores it: for orientation 3/6/8 the pixels sideways, with the EXIF tag."""
    buffer = io.BytesIO()
    if orientation == 1:
        photo.save(buffer, "JPEG", quality=quality)
    else:
        exif = Image.Exif()
        exif[ORIENTATION_TAG] = orientation
        photo.transpose(_STORE_SIDEWAYS[orientation]).save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def make_photo(digit: np.ndarray, label: int, index: int, kind: str, seed: int) -> Photo:
    """One photo of one kind; the same (digit, kind, seed) gives the same bytes."""
    rng = np.random.default_rng(seed)
    scene = base_scene(rng)
    KINDS[kind](scene, rng)
    photo, clean = render(digit, scene, rng)
    return Photo(
        kind=kind,
        index=index,
        label=label,
        photo=jpeg_bytes(photo, scene.quality, scene.orientation),
        clean=png_bytes(clean),
        orientation=scene.orientation,
    )


def corpus(images: np.ndarray, labels: np.ndarray, per_kind: int, seed: int = 0, kinds: list[str] | None = None):
    """`per_kind` photos of every kind, each of its own training digit (rows picked by `seed`).

    images: [N, 28, 28] floats in [0, 1] (the MNIST training split); yields Photo objects lazily.
    """
    kinds = kinds or list(KINDS)
    rows = np.random.default_rng(seed).choice(len(images), size=(len(KINDS), per_kind), replace=False)
    for k, kind in enumerate(KINDS):
        if kind not in kinds:
            continue
        for j, row in enumerate(rows[k]):
            yield make_photo(images[row], int(labels[row]), int(row), kind, seed=seed * 1_000_003 + k * 10_007 + j)
