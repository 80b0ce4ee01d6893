"""The record of training: panel every epoch, weights at snapshot epochs, through save, resume and export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from support.fakes import quiet
from vae.checkpoint import export_checkpoint, load_checkpoint, open_checkpoint
from vae.codes import prior_samples
from vae.config import ModelConfig, TrainConfig
from vae.data import MnistSplit
from vae.snapshots import (
    EncoderNotKept,
    dequantise_rows,
    model_at_epoch,
    panel_rows,
    quantise_rows,
    read_record,
    shipped_panel_epochs,
)
from vae.training import fit


def test_the_panel_holds_every_digit_first() -> None:
    labels = torch.tensor(  # the first 62 labels of the MNIST test set
        [
            7,
            2,
            1,
            0,
            4,
            1,
            4,
            9,
            5,
            9,
            0,
            6,
            9,
            0,
            1,
            5,
            9,
            7,
            3,
            4,
            9,
            6,
            6,
            5,
            4,
            0,
            7,
            4,
            0,
            1,
            3,
            1,
            3,
            4,
            7,
            2,
            7,
            1,
            2,
            1,
            1,
            7,
            4,
            2,
            3,
            5,
            1,
            2,
            4,
            4,
            6,
            3,
            5,
            5,
            6,
            0,
            4,
            1,
            9,
            5,
            7,
            8,
        ]
    )
    rows = panel_rows(labels)
    assert len(rows) == 16 and len(set(rows.tolist())) == 16
    assert [int(labels[r]) for r in rows[:10]] == list(range(10))
    assert int(rows[0]) == 3  # the first 0 of the set


def test_a_run_records_the_panel_every_epoch_and_weights_at_snapshots(
    trained_checkpoint: Path, fake_test: MnistSplit
) -> None:
    tensors, checked = open_checkpoint(trained_checkpoint)
    assert tensors["panel.epochs"].tolist() == [0, 1, 2, 3]
    assert tensors["panel.recon"].dtype == torch.uint8 and tensors["panel.recon"].shape == (4, 16, 784)
    assert tensors["panel.mu"].shape == (4, 16, 4)
    weighted = sorted({int(k.split(".")[1]) for k in tensors if ".weight." in k})
    assert weighted == [0, 2, 3]  # configured (0, 2) and the last
    model = load_checkpoint(trained_checkpoint)
    panel = fake_test.images[tensors["panel.rows"]]
    with torch.no_grad():
        recon = (model.decode(model.encode(panel)[0]).reshape(16, -1) * 255).round().to(torch.uint8)
    assert torch.equal(tensors["panel.recon"][-1], recon)  # the last row is the final model's
    assert not torch.equal(tensors["panel.recon"][0], tensors["panel.recon"][-1])
    for name, value in model.state_dict().items():
        assert torch.equal(tensors[f"snapshot.3.weight.{name}"], value.half())
    first = checked.raw["history"][0]
    assert first["epoch"] == 0 and first["test"]["total"] > checked.raw["history"][-1]["test"]["total"]


def test_resume_continues_the_record(tmp_path: Path, fake_train: MnistSplit, fake_test: MnistSplit) -> None:
    config = ModelConfig(kind="vae", hidden_dim=32, latent_dim=2)
    short, full = tmp_path / "short.safetensors", tmp_path / "full.safetensors"
    args = {"device": "cpu", "progress": False, "log": quiet}
    fit(
        config,
        TrainConfig(epochs=2, batch_size=64, seed=0, snapshot_epochs=(0, 1)),
        fake_train,
        fake_test,
        short,
        **args,
    )
    fit(
        config,
        TrainConfig(epochs=3, batch_size=64, seed=0, snapshot_epochs=(0, 1)),
        fake_train,
        fake_test,
        short,
        resume=True,
        **args,
    )
    fit(
        config,
        TrainConfig(epochs=3, batch_size=64, seed=0, snapshot_epochs=(0, 1)),
        fake_train,
        fake_test,
        full,
        **args,
    )
    resumed, straight = open_checkpoint(short)[0], open_checkpoint(full)[0]
    assert resumed["panel.epochs"].tolist() == [0, 1, 2, 3]
    assert torch.equal(resumed["panel.recon"], straight["panel.recon"])
    # the resumed run also kept epoch 2, the last of its first part
    assert sorted({int(k.split(".")[1]) for k in resumed if ".weight." in k}) == [0, 1, 2, 3]
    for name, value in straight.items():
        if name.startswith("snapshot."):
            assert torch.equal(resumed[name], value), name


def test_export_keeps_int8_decoders_and_the_epoch_slider_switches_them(
    trained_checkpoint: Path, tmp_path: Path
) -> None:
    shipped = tmp_path / "shipped.safetensors"
    export_checkpoint(trained_checkpoint, shipped)
    tensors, meta = open_checkpoint(shipped)
    assert sorted({int(k.split(".")[1]) for k in tensors if ".q8." in k}) == [0, 2]  # 3 is the model itself
    assert not any(".weight.encoder." in k for k in tensors)
    record = read_record(tensors, meta.epoch)
    assert record is not None and record.weight_epochs == (0, 2, 3)
    assert record.panel_epochs.tolist() == [0, 1, 2, 3] and record.panel_recon.dtype == np.uint8
    model = load_checkpoint(shipped)
    source = open_checkpoint(trained_checkpoint)[0]
    samples = {}
    for epoch in (0, 2):
        at_epoch = model_at_epoch(model, tensors, epoch)
        full = model_at_epoch(model, source, epoch)  # the run file's float16 weights
        samples[epoch] = prior_samples(at_epoch, 8, 1.0, seed=5).images.astype(float)
        reference = prior_samples(full, 8, 1.0, seed=5).images.astype(float)
        assert np.abs(samples[epoch] - reference).mean() < 1.0  # int8 rows: under a grey level on average
        with pytest.raises(EncoderNotKept):
            at_epoch.encode(torch.zeros(1, 784))
    last = prior_samples(model, 8, 1.0, seed=5).images.astype(float)
    assert np.abs(samples[0] - last).mean() > 5  # a sample at epoch 0 is not the trained model's
    assert np.abs(samples[0] - samples[2]).mean() > 1


def test_row_quantisation_error_is_within_half_a_step() -> None:
    matrix = torch.randn(50, 30) * torch.linspace(0.01, 3, 50)[:, None]
    q, scale = quantise_rows(matrix)
    assert q.dtype == torch.int8 and scale.dtype == torch.float16 and scale.shape == (50,)
    error = (dequantise_rows(q, scale) - matrix).abs()
    assert bool((error <= scale.float()[:, None] * 0.5 + 1e-6).all())


def test_the_shipped_panel_is_dense_early_and_square_later() -> None:
    kept = shipped_panel_epochs(list(range(401)), [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 400])
    assert kept[:11] == list(range(11))
    assert {16, 25, 36, 20, 50, 200, 400} <= set(kept) and 17 not in kept and 399 not in kept
    assert len(kept) == 11 + 17 + 3  # 0–10, squares 16…400, and 20, 50, 200
