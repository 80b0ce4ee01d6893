"""Turn an uploaded or drawn image into an MNIST-style 28x28 tensor.

MNIST digits are light ink on a black background, scaled so the longer side of the ink fits a 20x20
box (aspect kept, antialiased), then pasted into a 28x28 field so that the centre of mass sits in the
middle. `preprocess_steps` reproduces that recipe one small step at a time and keeps every stage so
the app can show them; `image_to_mnist` returns only the final tensor.

Anything we cannot turn into a digit raises `InvalidImageError` (a `ValueError`) with a message meant
for the person who uploaded the file, never a decoder exception.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

# What we accept. MPO is how Pillow labels camera JPEGs that carry extra embedded pictures.
ACCEPTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
_JPEG_ALIASES: frozenset[str] = frozenset({"MPO"})
ACCEPTED_NAMES = "PNG, JPEG, GIF, BMP or WebP"

# Refuse huge images before decoding pixels: a digit never needs more, and a tiny file can claim
# billions of pixels (a decompression bomb).
MAX_SIDE = 4096
MAX_PIXELS = 4096 * 4096

# Modes we cannot map to grey without guessing: high bit depth (16/32-bit ints, floats) and CMYK.
_HIGH_DEPTH_MODES: frozenset[str] = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
# Modes that convert to grey/RGBA losslessly enough; everything else is refused.
_SUPPORTED_MODES: frozenset[str] = frozenset({"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX"})

MNIST_SIZE = 28
FIT_SIZE = 20
MNIST_CENTER = 14.0  # target centre of mass (row, col) in pixel indices, as the brief for MNIST
BORDER_WIDTH = 2  # frame of pixels used to estimate the background
BLANK_CONTRAST = 0.08  # ink must differ from the background by more than ~20/255
INK_THRESHOLD = 0.1  # fraction of the strongest ink below which a pixel counts as background


class InvalidImageError(ValueError):
    """The input cannot be turned into a digit; the message says why, in plain words, and what to do."""


@dataclass(frozen=True)
class PreprocessResult:
    """Every stage of the pipeline; arrays are float32 in [0, 1], row-major (height, width).

    grayscale: the decoded image in grey, alpha composited, original polarity (what the user sees).
    inverted: whether the background was light, so the image was inverted to light-on-dark.
    ink: light ink on black at full size, background level removed and strongest ink scaled to 1.
    cropped: `ink` cut to the bounding box of the ink.
    fitted: `cropped` scaled so its longer side is 20, aspect ratio kept.
    mnist: the final 28x28 image, centred by centre of mass.
    tensor: `mnist` as a float32 tensor of shape [1, 1, 28, 28].
    """

    grayscale: np.ndarray
    inverted: bool
    ink: np.ndarray
    cropped: np.ndarray
    fitted: np.ndarray
    mnist: np.ndarray
    tensor: torch.Tensor

    def stages(self) -> dict[str, Image.Image]:
        """The stages as 8-bit grey PIL images, in order, keyed by a caption for a preview."""
        return {
            "Greyscale": to_pil(self.grayscale),
            "Light ink on dark": to_pil(self.ink),
            "Cropped to the ink": to_pil(self.cropped),
            "Fitted to 20x20": to_pil(self.fitted),
            "Centred in 28x28": to_pil(self.mnist),
        }


def to_pil(array: np.ndarray) -> Image.Image:
    """A [0, 1] float array as an 8-bit grey image (for display)."""
    return Image.fromarray(np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8))


# --- decoding ---------------------------------------------------------------------------------------


def decode_image(data: bytes | bytearray | memoryview | Image.Image) -> Image.Image:
    """Open and fully decode the input, refusing anything we cannot read safely."""
    if isinstance(data, Image.Image):
        img = data
    elif isinstance(data, bytes | bytearray | memoryview):
        img = _open_bytes(bytes(data))
    else:
        # A programming error, not a bad upload: say so in the usual Python way.
        raise TypeError(f"expected bytes or a PIL image, not {type(data).__name__}")

    _check_size(img)
    _check_single_frame(img)
    _load_pixels(img)
    _check_mode(img)
    return img


def _open_bytes(data: bytes) -> Image.Image:
    """Read the header only (pixels are decoded later, after the size checks)."""
    if not data:
        raise InvalidImageError(f"The file is empty. Upload a {ACCEPTED_NAMES} image of a digit.")
    try:
        # Pillow warns about big images and errors only on very big ones; make the warning an error
        # here only, so a suspicious file is refused without changing the global warning filters.
        # (catch_warnings is process-wide while open; header parsing is brief, so that is harmless.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImageError(_too_large_message()) from exc
    except Exception as exc:
        # Decoder plugins raise many types (OSError, SyntaxError, ValueError, struct.error...) on
        # garbage; to the user they all mean the same thing.
        raise InvalidImageError(f"This file is not an image we can read. Upload a {ACCEPTED_NAMES}.") from exc

    fmt = img.format or "unknown"
    if fmt not in ACCEPTED_FORMATS and fmt not in _JPEG_ALIASES:
        raise InvalidImageError(f"{fmt} images are not supported. Upload a {ACCEPTED_NAMES}.")
    return img


def _too_large_message(width: int | None = None, height: int | None = None) -> str:
    size = f" ({width}x{height} pixels)" if width is not None and height is not None else ""
    return (
        f"This image is too large{size}. Upload an image of at most {MAX_SIDE}x{MAX_SIDE} pixels, "
        "for example a photo cropped around the digit."
    )


def _check_size(img: Image.Image) -> None:
    width, height = img.size
    if width < 1 or height < 1:
        raise InvalidImageError("The image has no pixels. Draw or upload a digit.")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise InvalidImageError(_too_large_message(width, height))


def _check_single_frame(img: Image.Image) -> None:
    # A multi-picture camera JPEG holds previews, not an animation: its first picture is the photo.
    if img.format in _JPEG_ALIASES:
        return
    try:
        frames = int(getattr(img, "n_frames", 1))
    except Exception as exc:  # counting frames walks the file, which may be broken past the header
        raise InvalidImageError(_damaged_message()) from exc
    if frames > 1:
        raise InvalidImageError("Animated images are not supported. Upload a single still frame.")


def _damaged_message() -> str:
    return "This image seems damaged or incomplete, so we can't read it. Save it again or upload another file."


def _load_pixels(img: Image.Image) -> None:
    try:
        # Pillow decodes lazily; a truncated file fails here with OSError, so load inside the try.
        img.load()
    except Exception as exc:
        raise InvalidImageError(_damaged_message()) from exc


def _check_mode(img: Image.Image) -> None:
    if img.mode in _HIGH_DEPTH_MODES:
        raise InvalidImageError(
            "This image uses 16 or more bits per colour, which we can't read. "
            "Save it as an ordinary 8-bit PNG or JPEG and upload it again."
        )
    if img.mode == "CMYK":
        raise InvalidImageError(
            "This image uses CMYK colours (meant for printing), which we can't read. "
            "Save it as RGB and upload it again."
        )
    if img.mode not in _SUPPORTED_MODES:
        raise InvalidImageError(
            "This image uses a colour format we can't read. Save it as an ordinary RGB PNG or JPEG and upload it again."
        )


# --- pixel steps --------------------------------------------------------------------------------------


def to_grayscale(img: Image.Image) -> np.ndarray:
    """Grey levels in [0, 1], with any transparency composited onto a solid background.

    Rule for the background: composite onto the colour that contrasts with the visible (opaque)
    pixels. A drawing canvas is transparent where untouched (often "transparent black") with opaque
    strokes; onto white, black strokes stay visible, but white strokes would vanish. So if the
    alpha-weighted mean of the visible pixels is light we composite onto black, otherwise onto white.
    Fully opaque images are unaffected by the choice.
    """
    has_alpha = img.mode in {"LA", "La", "PA", "RGBA", "RGBa"} or "transparency" in img.info
    if not has_alpha:
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0

    rgba = img.convert("RGBA")
    grey = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0  # luminance, alpha ignored
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    weight = float(alpha.sum())
    visible_mean = float((grey * alpha).sum() / weight) if weight > 0 else 0.0  # all transparent: blank anyway
    background = 0.0 if visible_mean > 0.5 else 1.0
    return grey * alpha + background * (1.0 - alpha)


def border_pixels(gray: np.ndarray, width: int = BORDER_WIDTH) -> np.ndarray:
    """The outermost `width`-pixel frame (the whole image when it is smaller than the frame)."""
    mask = np.ones(gray.shape, dtype=bool)
    mask[width:-width, width:-width] = False
    return gray[mask]


def estimate_background(gray: np.ndarray) -> float:
    """Background level: the median of the border frame, where a digit rarely reaches."""
    return float(np.median(border_pixels(gray)))


def to_light_on_dark(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Invert if the background is light, so the ink is light on dark like MNIST."""
    inverted = estimate_background(gray) > 0.5
    return (1.0 - gray if inverted else gray), inverted


def isolate_ink(light_on_dark: np.ndarray) -> np.ndarray:
    """Remove the background level and scale the strongest ink to 1 (paper is rarely pure black/white).

    Pixels fainter than INK_THRESHOLD of the strongest ink are set to 0, so paper grain and
    compression noise neither blow up the bounding box nor pull the centre of mass.
    """
    background = estimate_background(light_on_dark)
    contrast = float(light_on_dark.max()) - background
    if contrast < BLANK_CONTRAST:
        raise InvalidImageError("The image looks blank: draw or upload a digit.")
    ink = np.clip((light_on_dark - background) / contrast, 0.0, 1.0)
    ink[ink < INK_THRESHOLD] = 0.0
    return ink.astype(np.float32)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Cut to the bounding box of the non-zero pixels (isolate_ink guarantees there are some)."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


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
    total = float(image.sum())
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


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


def preprocess_steps(data: bytes | Image.Image) -> PreprocessResult:
    """Run the whole MNIST-style pipeline and keep every stage (for previews and debugging)."""
    img = decode_image(data)
    gray = to_grayscale(img)
    light_on_dark, inverted = to_light_on_dark(gray)
    ink = isolate_ink(light_on_dark)
    cropped = crop_to_ink(ink)
    fitted = fit_to_box(cropped)
    mnist = center_in_frame(fitted)
    tensor = torch.from_numpy(mnist.copy()).reshape(1, 1, MNIST_SIZE, MNIST_SIZE)
    return PreprocessResult(
        grayscale=gray.astype(np.float32),
        inverted=inverted,
        ink=ink,
        cropped=cropped,
        fitted=fitted,
        mnist=mnist,
        tensor=tensor,
    )


def image_to_mnist(data: bytes | Image.Image) -> torch.Tensor:
    """Bytes or a PIL image -> float32 tensor [1, 1, 28, 28] in [0, 1], light ink on black like MNIST."""
    return preprocess_steps(data).tensor
