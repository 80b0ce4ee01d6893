"""HEIC, the format an iPhone saves its photos in, read through pi-heif (libheif's decoder).

The fixtures are a phone photo of a handwritten 7 written by tests/support/fixtures/make_heic.py with
pillow-heif's encoder: upright, and stored sideways with the turn in the file, as a phone does."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from PIL import Image

from vae.image_file import InvalidImageError, read_image
from vae.preprocess import image_to_mnist

FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures"
UPRIGHT = (FIXTURES / "seven_upright.heic").read_bytes()
SIDEWAYS = (FIXTURES / "seven_sideways.heic").read_bytes()
CLEAN = (FIXTURES / "seven_clean.png").read_bytes()


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a.reshape(1, -1), b.reshape(1, -1)))


@pytest.mark.slow
def test_a_heic_photo_reads_like_its_clean_source() -> None:
    decoded = read_image(UPRIGHT)
    assert decoded.format == "HEIF"
    assert cosine(image_to_mnist(UPRIGHT), image_to_mnist(CLEAN)) > 0.85


@pytest.mark.slow
def test_a_heic_stored_sideways_is_read_upright() -> None:
    """The turn is in the file (HEIF's irot): the decoder applies it, and the digit is the upright one."""
    assert Image.open(io.BytesIO(SIDEWAYS)).info["original_orientation"] == 6  # as the file stores it
    upright, sideways = read_image(UPRIGHT), read_image(SIDEWAYS)
    assert sideways.gray.shape == upright.gray.shape and sideways.gray.shape[1] > sideways.gray.shape[0]
    assert float((image_to_mnist(SIDEWAYS) - image_to_mnist(UPRIGHT)).abs().mean()) <= 0.02


@pytest.mark.parametrize("keep", [0.05, 0.4, 0.9, 0.996])
def test_a_cut_off_heic_is_called_damaged_not_an_unknown_format(keep: float) -> None:
    with pytest.raises(InvalidImageError) as refused:
        image_to_mnist(UPRIGHT[: int(len(UPRIGHT) * keep)])
    assert "damaged or incomplete" in str(refused.value)


def test_a_video_is_not_taken_for_a_damaged_heic() -> None:
    """An MP4 begins with an ftyp box too, with a video brand: that is not an image at all."""
    with pytest.raises(InvalidImageError) as refused:
        image_to_mnist(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64))
    assert "not an image" in str(refused.value)
