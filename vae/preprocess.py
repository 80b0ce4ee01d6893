"""Turn a photo, a scan, a drawing or a canvas into an MNIST-style 28x28 tensor.

MNIST digits are light ink on black, the longer side of the ink scaled to a 20x20 box (aspect kept,
antialiased), pasted into 28x28 so the centre of mass sits in the middle, with strokes ~2.5 px wide.
A phone photo is far from that: uneven light, a vignette, shadows, tinted paper, ruled lines, specks,
the page edge, a blue pen or chalk. `preprocess_steps` reads it one stage at a time and keeps every
stage so the app can show them:

1. decode (vae.image_file): EXIF orientation applied, any Pillow format, reduced size;
2. polarity: dark ink on light paper or light ink on a dark board, from which tail of the local
   residual is farther out (a median filter follows the paper, shadows included);
3. background: a grey closing (opening for light ink) wider than any stroke: it keeps the paper's
   light, gradients, vignettes and shadow edges (a closing preserves steps) and drops the ink;
4. ink: each pixel's darkness relative to its own paper, so a shadowed stroke counts like a lit one;
5. mask: half the ink level (Otsu's split of ink from paper grain) is the stroke edge;
6. stray marks: ruled and squared lines (long near-straight runs across the page) are cut out; of
   the connected pieces left, the heaviest one that is not a page edge is the digit, and pieces close
   to it (the bar of a 4, 5 or 7) join it; specks, shadows and far marks are dropped;
7. strokes: widened or thinned to MNIST's width (a distance transform), then the MNIST recipe.

Anything we cannot turn into a digit raises `InvalidImageError` (a `ValueError`) with a one-line
message meant for the person who uploaded the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from scipy import ndimage as ndi

from vae.image_file import DecodedImage, InvalidImageError, read_image
from vae.marks import keep_digit, remove_lines

__all__ = ["InvalidImageError", "PreprocessResult", "image_to_mnist", "preprocess_steps"]

MNIST_SIZE = 28
FIT_SIZE = 20
MNIST_CENTER = 14.0  # target centre of mass (row, col) in pixel indices
MNIST_STROKE = 2.5  # median MNIST stroke width in the 20 px box (4·mean distance transform − 2)
POLARITY_SIDE = 64  # the polarity is decided on a thumbnail: a digit's tail survives, noise averages out
BACKGROUND_FRACTION = 0.3  # closing width, as a fraction of the shorter side: wider than any stroke
MIN_BACKGROUND_FRACTION = 0.04
STROKE_WINDOW = 3.0  # second-pass closing window, in stroke widths (a junction is ~2 strokes wide)
CORE_LEVEL = 0.75  # share of the ink level that only pen strokes reach (a shadow darkens paper less)
BLANK_CONTRAST = 0.08
# CPU seconds one picture may cost, checked between the stages: every stage is bounded whatever the picture
# holds (vae/marks.py, vae/image_file.py), so a picture that still passes this is stopped after its stage.
CPU_BUDGET_S = 2.0
SMOOTH_MIN_SIDE = 64  # ink must differ from its paper by more than ~20/255


@dataclass(frozen=True)
class PreprocessResult:
    """Every stage of the pipeline; arrays are float32 in [0, 1], row-major (height, width).

    grayscale: the decoded image in grey, upright, alpha composited, original polarity.
    inverted: whether the ink is darker than the paper (so the image was read as dark-on-light).
    background: the estimated paper (or board) under the ink, light and shadows included.
    ink: ink strength relative to the local paper, 1 at the typical stroke.
    kept: 1 where the digit is, 0.35 where a mark was dropped (lines, specks, edges), 0 elsewhere.
    cropped: the digit's strokes, cut to their box and brought to MNIST's stroke width.
    fitted: `cropped` scaled so its longer side is 20, aspect ratio kept.
    mnist: the final 28x28 image, centred by centre of mass.
    tensor: `mnist` as a float32 tensor of shape [1, 1, 28, 28].
    source: what the decoder saw (format, size, EXIF orientation, animation frames).
    """

    grayscale: np.ndarray
    inverted: bool
    background: np.ndarray
    ink: np.ndarray
    kept: np.ndarray
    cropped: np.ndarray
    fitted: np.ndarray
    mnist: np.ndarray
    tensor: torch.Tensor
    source: DecodedImage

    def stages(self) -> dict[str, Image.Image]:
        """The stages as 8-bit grey PIL images, in order, keyed by a caption for a preview."""
        return {
            "Photo, upright": to_pil(self.grayscale),
            "Paper and light": to_pil(self.background),
            "Ink": to_pil(self.ink),
            "Digit kept": to_pil(self.kept),
            "MNIST strokes": to_pil(self.cropped),
            "Fitted to 20x20": to_pil(self.fitted),
            "Centred in 28x28": to_pil(self.mnist),
        }


def to_pil(array: np.ndarray) -> Image.Image:
    """A [0, 1] float array as an 8-bit grey image (for display)."""
    return Image.fromarray(np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8))


def _blank() -> InvalidImageError:
    return InvalidImageError("The image looks blank: draw or upload a digit.")


# --- light and ink ------------------------------------------------------------------------------------


def _shrink(gray: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(gray.shape)
    if scale >= 1:
        return gray
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return np.asarray(Image.fromarray(gray.astype(np.float32)).resize(size, Image.Resampling.BOX))


def has_dark_ink(gray: np.ndarray) -> bool:
    """Dark ink on light paper (True) or light ink on a dark board: the residual's farther tail."""
    thumb = _shrink(gray, POLARITY_SIDE)
    paper = ndi.median_filter(thumb, size=max(3, round(0.3 * min(thumb.shape))) | 1, mode="nearest")
    residual = thumb - paper
    low, high = np.percentile(residual, [0.5, 99.5])
    return bool(-low >= high)


def estimate_background(gray: np.ndarray, dark_ink: bool, width: float | None = None) -> np.ndarray:
    """The paper under the ink: a closing (dark ink) or opening (light ink) wider than any stroke.

    `width` is the window in pixels (default: BACKGROUND_FRACTION of the shorter side). Computed at
    half size for big images (the light changes slowly) and smoothed a little so the square window
    leaves no blocks; a closing keeps the step of a shadow edge where it is.
    """
    step = 2 if min(gray.shape) >= 200 else 1
    small = gray[::step, ::step] if step > 1 else gray
    width = BACKGROUND_FRACTION * min(gray.shape) if width is None else width
    size = max(3, round(width / step))
    morph = ndi.grey_closing if dark_ink else ndi.grey_opening
    grain_free = ndi.gaussian_filter(small, 0.7) if min(small.shape) >= SMOOTH_MIN_SIDE else small
    paper = morph(grain_free, size=(size, size), mode="nearest")
    paper = ndi.gaussian_filter(paper, size / 8)
    if step > 1:  # bilinear, as scipy's zoom of order 1, at a twentieth of its cost
        size_wh = (gray.shape[1], gray.shape[0])
        paper = np.asarray(Image.fromarray(paper.astype(np.float32)).resize(size_wh, Image.Resampling.BILINEAR))
    return np.clip(paper, 0.0, 1.0).astype(np.float32)


def background_width(contrast: np.ndarray, level: float, shorter_side: int) -> float:
    """A closing window just wider than the strokes: STROKE_WINDOW × the width of the strongest ink.

    The first pass uses a window wide enough for any stroke, which also takes a shadow band narrower
    than it for ink; shadows are fainter than a pen, so the width of the strongest ink (the core)
    is the strokes' width, and a window a few strokes wide keeps the shadow as background.
    """
    peak = float(np.percentile(contrast, 99.9))  # the darkest 0.1 %: pen, even when a shadow outweighs it
    core = contrast > CORE_LEVEL * max(level, peak)
    if not core.any():
        return BACKGROUND_FRACTION * shorter_side
    rows, cols = np.flatnonzero(core.any(axis=1)), np.flatnonzero(core.any(axis=0))
    width = stroke_width(core[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    return float(
        np.clip(STROKE_WINDOW * width, MIN_BACKGROUND_FRACTION * shorter_side, BACKGROUND_FRACTION * shorter_side)
    )


def ink_contrast(gray: np.ndarray, background: np.ndarray, dark_ink: bool) -> np.ndarray:
    """How much each pixel is ink: darkness relative to its own paper (light ink: lightness above it).

    Relative darkness is unchanged by the light falling on the page, so ink in a shadow or a dark
    corner scores like ink in the light.
    """
    # Paper grain and JPEG noise average out, strokes stay; a tiny image (an icon, MNIST itself) has no grain.
    smooth = ndi.gaussian_filter(gray, 0.8) if min(gray.shape) >= SMOOTH_MIN_SIDE else gray
    if dark_ink:
        return np.clip((background - smooth) / np.maximum(background, 0.05), 0.0, None)
    return np.clip(smooth - background, 0.0, None)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's split of a 1-D sample into two classes (maximal between-class variance).

    A few lines of numpy: scipy has no Otsu, and scikit-image would be a large dependency for one call.
    """
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    mean_low = np.cumsum(counts * centres) / np.maximum(weight_low, 1)
    mean_high = ((counts * centres).sum() - np.cumsum(counts * centres)) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(centres[int(np.argmax(between))])


def ink_level(contrast: np.ndarray, gray: np.ndarray, background: np.ndarray) -> float:
    """The typical contrast of a stroke; raises the blank-image error when there is no ink."""
    split = otsu_threshold(contrast.ravel())
    strokes = contrast[contrast > split]
    sample = contrast[::2, ::2]  # the paper's grain is the same on every other pixel, at a quarter of the cost
    noise = 1.4826 * float(np.median(np.abs(sample - np.median(sample))))
    level = float(np.median(strokes)) if strokes.size else 0.0
    absolute = float(np.percentile(np.abs(gray - background)[contrast > split], 90)) if strokes.size else 0.0
    if absolute < BLANK_CONTRAST or level < 6 * noise:
        raise _blank()
    return level


# --- strokes and the MNIST recipe -----------------------------------------------------------------------


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: 4·(mean distance to the edge) − 2 (a band of width w averages w/4 + ½)."""
    inside = ndi.distance_transform_edt(mask)
    return max(1.0, 4.0 * float(inside[mask].mean()) - 2.0)


def normalise_strokes(mask: np.ndarray) -> np.ndarray:
    """Cut the digit's mask to its box and widen or thin its strokes to MNIST's width at that scale."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    target = MNIST_STROKE * max(height, width) / FIT_SIZE
    pad = int(np.ceil(target)) + 2
    crop = np.pad(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], pad)
    change = (target - stroke_width(crop)) / 2  # radius to add (or remove) on each side of a stroke
    if change > 0.5:
        crop = ndi.distance_transform_edt(~crop) <= change
    elif change < -0.5:
        thinned = ndi.distance_transform_edt(crop) > -change
        if thinned.sum() >= 0.3 * crop.sum():  # never erase thin parts of a mostly thick digit
            crop = thinned
    rows, cols = np.flatnonzero(crop.any(axis=1)), np.flatnonzero(crop.any(axis=0))
    return crop[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)


def fit_to_box(cropped: np.ndarray, size: int = FIT_SIZE) -> np.ndarray:
    """Scale so the longer side is `size`, keeping the aspect ratio, resampling in float.

    Shrinking uses BOX (exact area averaging: antialiased, no ringing); enlarging a tiny crop uses
    BILINEAR (smooth, no overshoot). The strongest ink is rescaled to 1 afterwards because shrinking
    thin strokes dims them, while MNIST strokes are saturated.
    """
    height, width = cropped.shape
    scale = size / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL wants (w, h)
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    fitted = np.asarray(Image.fromarray(cropped.astype(np.float32)).resize(new_size, resample), dtype=np.float32)
    fitted = np.clip(fitted, 0.0, None)
    peak = float(fitted.max())
    return (fitted / peak if peak > 0 else fitted).astype(np.float32)


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean (row, col) in pixel indices."""
    row, col = ndi.center_of_mass(image)
    return float(row), float(col)


def center_in_frame(fitted: np.ndarray, size: int = MNIST_SIZE, center: float = MNIST_CENTER) -> np.ndarray:
    """Paste into a size x size black field so the centre of mass lands on (center, center).

    Shifts are whole pixels (no extra blur) and clipped so the digit never leaves the frame; for a
    very lopsided digit the centre of mass may then end up a little off-centre.
    """
    height, width = fitted.shape
    cy, cx = center_of_mass(fitted)
    top = int(np.clip(np.floor(center - cy + 0.5), 0, size - height))
    left = int(np.clip(np.floor(center - cx + 0.5), 0, size - width))
    frame = np.zeros((size, size), dtype=np.float32)
    frame[top : top + height, left : left + width] = fitted
    return np.clip(frame, 0.0, 1.0)


# --- pipeline -----------------------------------------------------------------------------------------


def cpu_budget(seconds: float) -> Callable[[], None]:
    """A check to call between stages: raises InvalidImageError once this thread has spent `seconds` of CPU."""
    started = time.thread_time()

    def check() -> None:
        if time.thread_time() - started > seconds:
            raise InvalidImageError(
                f"Reading this picture took over {seconds:g} s of the server's time, so it was stopped: "
                "try a smaller photo, or crop it to the digit."
            )

    return check


def preprocess_steps(
    data: bytes | bytearray | memoryview | Image.Image, budget_s: float = CPU_BUDGET_S
) -> PreprocessResult:
    """Run the whole pipeline and keep every stage (for previews and debugging), within `budget_s` of CPU."""
    spent = cpu_budget(budget_s)
    source = read_image(data)
    gray = source.gray
    if gray.size < 4 or float(gray.max() - gray.min()) < BLANK_CONTRAST:
        raise _blank()
    spent()
    dark = has_dark_ink(gray)
    background = estimate_background(gray, dark)
    contrast = ink_contrast(gray, background, dark)
    level = ink_level(contrast, gray, background)
    spent()
    width = background_width(contrast, level, min(gray.shape))
    if width < 0.8 * BACKGROUND_FRACTION * min(gray.shape):
        background = estimate_background(gray, dark, width)
        contrast = ink_contrast(gray, background, dark)
        level = ink_level(contrast, gray, background)
        spent()
    mask = contrast > 0.5 * level  # half the ink level: where a stroke's edge is
    mask, lines = remove_lines(mask)
    spent()
    digit, dropped = keep_digit(mask, contrast)
    spent()
    cropped = normalise_strokes(digit)
    fitted = fit_to_box(cropped)
    mnist = center_in_frame(fitted)
    return PreprocessResult(
        grayscale=gray.astype(np.float32),
        inverted=dark,
        background=background,
        ink=np.clip(contrast / level, 0.0, 1.0).astype(np.float32),
        kept=np.where(digit, 1.0, np.where(dropped | lines, 0.35, 0.0)).astype(np.float32),
        cropped=cropped,
        fitted=fitted,
        mnist=mnist,
        tensor=torch.from_numpy(mnist.copy()).reshape(1, 1, MNIST_SIZE, MNIST_SIZE),
        source=source,
    )


def image_to_mnist(data: bytes | bytearray | memoryview | Image.Image) -> torch.Tensor:
    """Bytes or a PIL image -> float32 tensor [1, 1, 28, 28] in [0, 1], light ink on black like MNIST."""
    return preprocess_steps(data).tensor
