"""Photos of digits (harness/photos.py) read like their clean sources; stray marks are told apart.

The fast tests photograph hand-drawn 28x28 digits; the `mnist` test photographs real MNIST training
digits and asks the shipped model's verdict, as bench/photo_reading.py does on a larger corpus.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from harness.photos import KINDS, corpus, make_photo
from harness.upload_cost import can_measure, upload_cost
from support.digits import FOUR, SEVEN
from vae.marks import keep_digit, remove_lines
from vae.preprocess import image_to_mnist, preprocess_steps


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten(), b.flatten()
    return float((a @ b) / (a.norm() * b.norm()))


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("name", "digit"), [("seven", SEVEN), ("four", FOUR)])
def test_a_photo_reads_like_its_clean_source(kind: str, name: str, digit: np.ndarray) -> None:
    photo = make_photo(digit, label=7, index=0, kind=kind, seed=11)
    from_photo, from_clean = image_to_mnist(photo.photo), image_to_mnist(photo.clean)
    assert cosine(from_photo, from_clean) > 0.85, f"{name} on {kind}"


def test_chalkboard_is_read_as_light_ink() -> None:
    photo = make_photo(SEVEN, label=7, index=0, kind="chalkboard", seed=3)
    assert not preprocess_steps(photo.photo).inverted
    assert preprocess_steps(photo.clean).inverted


def test_ruled_and_squared_lines_are_cut_out() -> None:
    mask = np.zeros((300, 400), dtype=bool)
    for row in range(20, 300, 30):  # ruled lines, turned 3 degrees
        cols = np.arange(400)
        rows = np.round(row + np.tan(np.deg2rad(3)) * cols).astype(int)
        keep = rows < 300
        mask[rows[keep], cols[keep]] = True
    for col in range(15, 400, 30):  # and squares
        mask[:, col] = True
    digit = np.zeros_like(mask)
    digit[100:200, 180:190] = True  # a "1", 10 px wide
    digit[100:110, 150:190] = True  # with its flag
    cleaned, lines = remove_lines(mask | digit)
    assert lines[mask & ~digit].mean() > 0.9  # nearly every line pixel found
    assert cleaned[digit].mean() > 0.8  # the digit keeps most of its ink (lines cross it)
    assert not cleaned[mask & ~digit].any() or cleaned[mask & ~digit].mean() < 0.05


def test_separate_strokes_stay_together_and_marks_are_dropped() -> None:
    mask = np.zeros((300, 300), dtype=bool)
    mask[80:200, 140:150] = True  # the stem of a 4
    mask[60:140, 100:108] = True  # its other stroke, 8 px away: a separate piece
    mask[135:143, 100:170] = True  # the bar, touching the left stroke only
    mask[10:14, 280:284] = True  # a speck far away
    mask[:, 0:12] = True  # the page edge along the border
    mask[250:253, 20:60] = True  # a stray short mark far below
    contrast = mask.astype(np.float32)
    digit, dropped = keep_digit(mask, contrast)
    assert digit[80:200, 140:150].all() and digit[60:140, 100:108].all()
    assert not digit[10:14, 280:284].any() and not digit[:, 0:12].any() and not digit[250:253, 20:60].any()
    assert dropped[:, 0:12].all()


def test_digit_drawn_to_the_border_is_still_the_digit() -> None:
    """On a canvas a long stroke may touch the edge; with nothing else there it is the digit."""
    img = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(img).line([(140, 0), (140, 279)], fill=0, width=20)
    result = preprocess_steps(img)
    assert result.kept[:, 140].all()


@pytest.mark.parametrize(
    ("size", "fmt"), [((8192, 6144), "JPEG"), ((4000, 4000), "PNG")], ids=["50MP-jpeg", "16MP-png"]
)
@pytest.mark.skipif(not can_measure(), reason="needs Linux's /proc/self/clear_refs")
@pytest.mark.slow
def test_peak_memory_of_a_big_upload(tmp_path: Path, size: tuple[int, int], fmt: str) -> None:
    """Reading one big upload raises the process's peak memory by at most 150 MB (measured in a fresh process)."""
    img = Image.new("RGB", size, (214, 208, 196))
    w, h = size
    ImageDraw.Draw(img).line([(w * 0.4, h * 0.3), (w * 0.6, h * 0.3), (w * 0.45, h * 0.7)], fill=(30, 30, 40), width=80)
    path = tmp_path / f"big.{fmt.lower()}"
    img.save(path, fmt, quality=90)
    del img
    assert path.stat().st_size <= 20 * 2**20
    _, _, peak_mb = upload_cost(path)
    assert 0 < peak_mb <= 150  # above 0: the measurement sees the upload's own pixels


@pytest.mark.mnist
def test_photos_of_training_digits_read_nearly_as_well_as_clean(mnist_data_dir: Path) -> None:
    """On a fixed subset (4 photos of every kind), the verdict is right on the photos at least 0.90 times
    as often as on their clean sources (photo accuracy / clean accuracy ≥ 0.90), and right on ≥ 85 %."""
    from vae.atlas import load_atlas
    from vae.checkpoint import default_checkpoint_path, load_checkpoint
    from vae.data import load_mnist
    from vae.verdict import read_digit

    model, atlas = load_checkpoint(default_checkpoint_path()), load_atlas(default_checkpoint_path())
    train = load_mnist("train", mnist_data_dir, lambda _m: None)

    def verdict(data: bytes) -> int:
        with torch.no_grad():
            mu, _ = model.encode(image_to_mnist(data).reshape(1, 784))
        return read_digit(mu[0], atlas.mu, atlas.labels).label

    right_photo = right_clean = total = 0
    for photo in corpus(train.images.numpy().reshape(-1, 28, 28), train.labels.numpy(), per_kind=4, seed=1):
        right_photo += verdict(photo.photo) == photo.label
        right_clean += verdict(photo.clean) == photo.label
        total += 1
    assert total == 4 * len(KINDS)
    assert right_photo / right_clean >= 0.90
    assert right_photo / total >= 0.85


@pytest.mark.slow
def test_corpus_photos_are_jpegs_with_the_promised_orientation() -> None:
    photos = list(corpus(np.stack([SEVEN, FOUR] * 20), np.array([7, 4] * 20), per_kind=2, seed=0))
    assert len(photos) == 2 * len(KINDS)
    for photo in photos:
        img = Image.open(io.BytesIO(photo.photo))
        assert img.format == "JPEG"
        assert img.getexif().get(0x0112, 1) == photo.orientation
    assert {p.orientation for p in photos if p.kind == "EXIF sideways"} <= {3, 6, 8}
