"""Issue 23: hostile uploads (harness/hostile_corpus.py) cost little and end in one plain line.

Fast tests read each crafted checkpoint in this process and the cheap image refusals; the slow ones read
every hostile file in a fresh process under a memory and CPU limit (harness/upload_cost.py) and hold it
to the budget: at most 2 s of CPU and 500 MB above the process's baseline per upload.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.hostile_corpus import HOSTILE, checkpoint, hostile_files, piece_join_bomb
from harness.upload_cost import can_measure, measure
from vae.checkpoint import CheckpointError, load_checkpoint
from vae.image_file import InvalidImageError, read_image
from vae.marks import keep_digit

CPU_BUDGET_S = 2.0
MEMORY_BUDGET_MB = 500.0
CHECKPOINTS = [name for name, (kind, _, _) in HOSTILE.items() if kind == "checkpoint"]


def assert_plain_line(message: str, folder: Path) -> None:
    """What the visitor sees: one line of at most 200 characters, no server folder in it."""
    assert "\n" not in message and 0 < len(message) <= 200, message
    assert str(folder) not in message and "/tmp" not in message, message


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_a_hostile_checkpoint_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    _, what, path = hostile_files(tmp_path, [name])[name]
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(info.value).startswith(f"{name}: "), what
    assert_plain_line(str(info.value), tmp_path)


def test_a_checkpoint_that_loads_encodes_and_decodes(tmp_path: Path) -> None:
    """The corpus's own baseline: the same small file, untouched, loads and works on every view's input."""
    path = tmp_path / "fine.safetensors"
    path.write_bytes(checkpoint())
    model = load_checkpoint(path)
    with torch.no_grad():
        mu, _ = model.encode(torch.rand(2, 1, 28, 28))
        assert model.decode(mu).shape == (2, 1, 28, 28) and bool(torch.isfinite(mu).all())


def test_the_piece_join_bomb_costs_a_fraction_of_a_second() -> None:
    page = read_image(piece_join_bomb()).gray < 0.5  # the ink mask, as vae.preprocess makes it
    start = time.process_time()
    digit, dropped = keep_digit(page, page.astype(np.float32))
    assert time.process_time() - start < CPU_BUDGET_S  # 0.04 s here; 64 s when pieces joined one at a time
    assert digit.sum() > 0 and (digit & dropped).sum() == 0


def test_a_jpeg_of_too_many_scans_is_refused_before_decoding(tmp_path: Path) -> None:
    _, _, path = hostile_files(tmp_path, ["scans.jpg"])["scans.jpg"]
    start = time.process_time()
    with pytest.raises(InvalidImageError, match="too many scans"):
        read_image(path.read_bytes())
    assert time.process_time() - start < 0.5


@pytest.mark.slow
@pytest.mark.skipif(not can_measure(), reason="needs Linux's /proc/self/clear_refs")
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_upload_stays_in_budget(tmp_path: Path, name: str) -> None:
    kind, what, path = hostile_files(tmp_path, [name])[name]
    cost = measure(path, kind)  # fails when the child hits its memory or CPU limit
    assert cost.cpu_s <= CPU_BUDGET_S, f"{what}: {cost}"
    assert cost.peak_mb <= MEMORY_BUDGET_MB, f"{what}: {cost}"
    if kind == "checkpoint":
        assert cost.refusal is not None, what
    if cost.refusal is not None:
        assert_plain_line(cost.refusal, tmp_path)


def test_a_picture_that_outruns_its_cpu_budget_is_stopped_in_one_line() -> None:
    from harness.photos import KINDS, make_photo
    from support.digits import SEVEN
    from vae.preprocess import preprocess_steps

    photo = make_photo(SEVEN, 7, 0, next(iter(KINDS)), seed=0).photo
    assert preprocess_steps(photo).tensor.shape == (1, 1, 28, 28)  # within the budget
    with pytest.raises(InvalidImageError, match=r"^Reading this picture took over 1e-06 s of the server's time"):
        preprocess_steps(photo, budget_s=1e-6)
