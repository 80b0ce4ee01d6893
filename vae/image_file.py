"""Reading an uploaded image file into grey levels, robustly and cheaply.

Whatever Pillow decodes is read: CMYK, 16-bit, palette, alpha, animated (the first frame, reported
in `DecodedImage.first_of_frames`), camera JPEGs with their EXIF orientation applied, and an iPhone's
HEIC photos (through pi-heif, libheif's decoder, when it is installed; the turn stored in the file is
applied by the decoder, which then reports the EXIF orientation as 1). A phone photo
of up to 50 megapixels is decoded at reduced size inside the JPEG decoder (`Image.draft`, DCT
scaling), so it costs a fraction of its full size in time and memory; other formats are decoded in
full and shrunk at once (`Image.reduce`), which is why they have a tighter pixel limit.

Anything we cannot read raises `InvalidImageError` (a `ValueError`) with a one-line message meant
for the person who uploaded the file, never a decoder exception.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

try:  # HEIC/HEIF: an iPhone's photos. Optional: without it such a file is "not an image we can read".
    from pi_heif import register_heif_opener
except ImportError:  # pragma: no cover - pi-heif is in requirements.txt
    pass
else:
    register_heif_opener()

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 8192 * 6144  # 50 megapixels, the largest phone cameras (8160 × 6120) included
MAX_SIDE = 16_384
# Formats decoded at full size: their pixels must fit ~100 MB (Pillow keeps RGB as 4 bytes a pixel).
MAX_FULL_DECODE_BYTES = 100_000_000
WORK_SIDE = 640  # the longer side we work at: a digit filling a tenth of the frame is still 50 px tall
_DRAFT_FORMATS = frozenset({"JPEG", "MPO"})
# A progressive JPEG has ~10 scans (a camera's MPO a few pictures of them), and each scan is decoded over the
# whole picture: a 0.5 MB file repeating one tiny scan 20,000 times took over two minutes (issue 23).
MAX_JPEG_SCANS = 100
# Counting an animation's frames walks the file for GIF and TIFF (~0.1 ms a frame, and a 20 MB file holds
# ~150,000 tiny ones): beyond this many, the count says "at least".
MAX_COUNTED_FRAMES = 1000
# Peak bytes per pixel while decoding and shrinking (Pillow stores RGB in 4; palette and 16-bit
# images are converted once on the way down, which holds a second copy).
_BYTES_PER_PIXEL = {"1": 2, "L": 1, "P": 5, "PA": 8, "I;16": 6, "I;16B": 6, "I;16L": 6, "I;16N": 6}
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
# HEIF's brands (ISO/IEC 23008-12), as a file's first box ("ftyp") names them: a file that says it is one
# and cannot be opened was cut short or damaged, not "not an image".
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})


class InvalidImageError(ValueError):
    """The input cannot be turned into a digit; the message says why, in plain words, and what to do."""


@dataclass(frozen=True)
class DecodedImage:
    """Grey levels in [0, 1] (float32, height × width), alpha composited, upright, at most WORK_SIDE."""

    gray: np.ndarray
    format: str  # Pillow's name of the file format ("JPEG", "PNG", …; "image" for a PIL input)
    original_size: tuple[int, int]  # (width, height) as stored, before any reduction or rotation
    orientation: int  # EXIF orientation tag that was applied (1 = none)
    first_of_frames: int  # frame count of an animation whose first frame this is; 1 for a still


def not_an_image_message() -> str:
    return "This file is not an image we can read. Upload a photo or picture of a digit (JPEG, PNG, HEIC, …)."


def damaged_message() -> str:
    return "This image seems damaged or incomplete, so we can't read it. Save it again or upload another file."


def too_large_message(width: int | None = None, height: int | None = None) -> str:
    size = f" ({width}×{height} pixels)" if width is not None and height is not None else ""
    return f"This image is too large{size}. Upload a photo of at most 50 megapixels, or crop it around the digit."


def read_image(data: bytes | bytearray | memoryview | Image.Image) -> DecodedImage:
    """Decode bytes (or take a PIL image) into upright grey levels at working size."""
    if isinstance(data, Image.Image):
        img, fmt = data, data.format or "image"
    elif isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        img = _open(data)
        fmt = img.format or "image"
        # Start-of-scan markers (FF DA) appear nowhere else: entropy-coded bytes escape FF as FF 00.
        if fmt in _DRAFT_FORMATS and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
            raise InvalidImageError(
                f"This JPEG has too many scans (over {MAX_JPEG_SCANS}) to decode. Save it again or upload a PNG."
            )
    else:
        # A programming error, not a bad upload: say so in the usual Python way.
        raise TypeError(f"expected bytes or a PIL image, not {type(data).__name__}")
    original_size = img.size
    _check_size(img)
    frames = _frame_count(img)
    orientation = _orientation(img)
    img = _load_reduced(img)
    if orientation in range(2, 9):
        img = ImageOps.exif_transpose(img)
    return DecodedImage(
        gray=to_grayscale(img),
        format=fmt,
        original_size=original_size,
        orientation=orientation if orientation in range(2, 9) else 1,
        first_of_frames=frames,
    )


def _open(data: bytes) -> Image.Image:
    """Read the header only (pixels are decoded later, after the size checks)."""
    if not data:
        raise InvalidImageError("The file is empty. Upload a photo or picture of a digit.")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidImageError(
            f"The file is {len(data) / 2**20:.0f} MB; the limit is 20 MB. Upload a smaller photo or crop it."
        )
    try:
        # Only the header is read here. Pillow refuses bombs past twice its pixel limit itself; below that it
        # merely warns, and _check_size refuses anything over either limit before a pixel is decoded. (No
        # warnings.catch_warnings: it changes process-wide state, and a server runs many sessions at once.)
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise InvalidImageError(too_large_message()) from exc
    except Exception as exc:
        # Decoder plugins raise many types (OSError, SyntaxError, ValueError, struct.error...) on
        # garbage; to the user they all mean the same thing.
        if _says_heif(data):
            raise InvalidImageError(damaged_message()) from exc
        raise InvalidImageError(not_an_image_message()) from exc


def _says_heif(data: bytes) -> bool:
    """Whether the file begins as a HEIF (an iPhone photo) does: an "ftyp" box whose major brand is HEIF's."""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _check_size(img: Image.Image) -> None:
    width, height = img.size
    if width < 1 or height < 1:
        raise InvalidImageError("The image has no pixels. Draw or upload a digit.")
    pillow_limit = Image.MAX_IMAGE_PIXELS or MAX_PIXELS  # Pillow only warns between its limit and twice it
    if width > MAX_SIDE or height > MAX_SIDE or width * height > min(MAX_PIXELS, pillow_limit):
        raise InvalidImageError(too_large_message(width, height))
    if img.format not in _DRAFT_FORMATS and width * height * _BYTES_PER_PIXEL.get(img.mode, 4) > MAX_FULL_DECODE_BYTES:
        raise InvalidImageError(
            f"This {img.format or ''} image is too large ({width}×{height} pixels) to read at full size. "
            "Save it as a JPEG or crop it around the digit."
        )


def _frame_count(img: Image.Image) -> int:
    """Frames of an animation, counted up to MAX_COUNTED_FRAMES (1 for a still)."""
    # A multi-picture camera JPEG (MPO) holds previews, not an animation: its first picture is the photo.
    if img.format == "MPO" or not getattr(img, "is_animated", False):
        return 1
    count = 1
    try:  # seeking reads frame headers only; Pillow's n_frames would walk every frame of the file
        while count < MAX_COUNTED_FRAMES:
            img.seek(count)
            count += 1
    except EOFError:
        pass
    except Exception:  # a file broken past the first frame: what was counted stands
        count = max(count, 2)
    try:
        img.seek(0)
    except Exception as exc:
        raise InvalidImageError(damaged_message()) from exc
    return count


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return 1


def _load_reduced(img: Image.Image) -> Image.Image:
    """Decode the pixels, at reduced size where the format allows; a truncated file fails here."""
    try:
        if img.format in _DRAFT_FORMATS and max(img.size) > WORK_SIDE:
            # DCT scaling: decodes at 1/2, 1/4 or 1/8 size, never below the requested one; grey directly.
            img.draft("L" if img.mode in {"L", "RGB", "YCbCr"} else None, (WORK_SIDE, WORK_SIDE))
        img.load()
    except Exception as exc:
        raise InvalidImageError(damaged_message()) from exc
    if max(img.size) <= WORK_SIDE:
        return img
    img = _resizable(img)
    factor = max(img.size) // WORK_SIDE
    if factor >= 2:
        img = img.reduce(factor)  # integer box average first: cheap, and the full-size pixels are freed
    scale = WORK_SIDE / max(img.size)
    return img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BOX)


def _resizable(img: Image.Image) -> Image.Image:
    """Palette, 1-bit and 16-bit images in a mode Pillow can shrink, keeping transparency and depth."""
    if img.mode in {"P", "PA", "1"}:
        has_alpha = img.mode == "PA" or "transparency" in img.info
        return img.convert("RGBA" if has_alpha else "L")
    if img.mode.startswith("I;16"):
        return img.convert("I")
    return img


def to_grayscale(img: Image.Image) -> np.ndarray:
    """Grey levels in [0, 1], with any transparency composited onto a solid background.

    Rule for the background: composite onto the colour that contrasts with the visible (opaque)
    pixels. A drawing canvas is transparent where untouched (often "transparent black") with opaque
    strokes; onto white, black strokes stay visible, but white strokes would vanish. So if the
    alpha-weighted mean of the visible pixels is light we composite onto black, otherwise onto white.
    Fully opaque images are unaffected by the choice.
    """
    if img.mode.startswith("I") or img.mode == "F":
        return _high_depth_to_unit(np.asarray(img, dtype=np.float64))
    has_alpha = img.mode in _ALPHA_MODES or "transparency" in img.info
    if not has_alpha:
        # CMYK, YCbCr, LAB, palette, 1-bit: Pillow's conversion to luminance handles them all.
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    rgba = img.convert("RGBA")
    grey = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0  # luminance, alpha ignored
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    weight = float(alpha.sum())
    visible_mean = float((grey * alpha).sum() / weight) if weight > 0 else 0.0  # all transparent: blank anyway
    background = 0.0 if visible_mean > 0.5 else 1.0
    return grey * alpha + background * (1.0 - alpha)


def _high_depth_to_unit(values: np.ndarray) -> np.ndarray:
    """16/32-bit integers or floats to [0, 1]: by the type's own range, never clipping at 255."""
    top = float(values.max()) if values.size else 1.0
    if top <= 1.0:  # floats already in [0, 1]
        scale = 1.0
    elif top <= 255.0:  # 8-bit values stored wide
        scale = 255.0
    elif top <= 65535.0:
        scale = 65535.0
    else:
        scale = top
    return np.clip(values / scale, 0.0, 1.0).astype(np.float32)
