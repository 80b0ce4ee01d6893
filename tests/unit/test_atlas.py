"""The atlas beside a checkpoint: its contents, its hash check, and how it refuses a stale or missing map."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from support.fakes import quiet
from vae import data
from vae.atlas import (
    AtlasError,
    atlas_path,
    build_atlas,
    dimension_usage,
    kept_snapshots,
    load_atlas,
    procrustes_align,
)
from vae.checkpoint import export_checkpoint, file_sha256, load_checkpoint, read_meta
from vae.config import ModelConfig, TrainConfig
from vae.data import MnistSplit
from vae.latent import encode_all
from vae.training import fit


@pytest.fixture
def fake_mnist(monkeypatch: pytest.MonkeyPatch, fake_test: MnistSplit) -> list[str]:
    """build_atlas reads the test split through vae.data.load_mnist: serve the small fake one."""
    requested: list[str] = []

    def load_fake(split: str, data_dir: object = None, progress: object = None) -> MnistSplit:
        requested.append(split)
        return fake_test

    monkeypatch.setattr(data, "load_mnist", load_fake)
    monkeypatch.setattr("vae.atlas.TSNE_ITERATIONS", 300)  # 256 fake points settle long before 1000
    return requested


def train_small(
    out: Path, fake_train: MnistSplit, fake_test: MnistSplit, kind: str = "vae", d: int = 2, epochs: int = 2
) -> Path:
    config = TrainConfig(epochs=epochs, batch_size=64, lr=3e-3, seed=0, snapshot_epochs=(0, 2))
    fit(
        ModelConfig(kind=kind, hidden_dim=32, latent_dim=d),
        config,
        fake_train,
        fake_test,
        out,
        "cpu",
        progress=False,
        log=quiet,
    )
    return out


@pytest.fixture
def flat_checkpoint(tmp_path: Path, fake_train: MnistSplit, fake_test: MnistSplit) -> Path:
    return train_small(tmp_path / "vae_d2.safetensors", fake_train, fake_test)


def test_atlas_of_a_2d_model_is_its_latent_plane(
    flat_checkpoint: Path, fake_mnist: list[str], fake_test: MnistSplit
) -> None:
    path = build_atlas(flat_checkpoint, log=quiet)
    assert path == atlas_path(flat_checkpoint) == flat_checkpoint.with_name("vae_d2.atlas.safetensors")
    assert fake_mnist == ["test"]
    atlas = load_atlas(flat_checkpoint)
    model = load_checkpoint(flat_checkpoint)
    mu, logvar = encode_all(model, fake_test.images)
    assert atlas.method == "latent"
    np.testing.assert_allclose(atlas.coords, mu.numpy(), atol=1e-6)  # the map is the means themselves
    np.testing.assert_allclose(atlas.mu, mu.numpy(), atol=2e-3, rtol=2e-3)  # stored in float16
    np.testing.assert_allclose(atlas.logvar, logvar.numpy(), atol=2e-3, rtol=2e-3)
    np.testing.assert_array_equal(atlas.labels, fake_test.labels.numpy())
    assert atlas.labels.dtype == np.int64
    assert atlas.checkpoint_sha256 == file_sha256(flat_checkpoint)


def test_snapshot_maps_are_aligned_to_the_final_map(flat_checkpoint: Path, fake_mnist: list[str]) -> None:
    build_atlas(flat_checkpoint, log=quiet)
    atlas = load_atlas(flat_checkpoint)
    assert sorted(atlas.snapshot_coords) == [0, 2]
    for coords in atlas.snapshot_coords.values():
        assert coords.shape == atlas.coords.shape
    # the epoch-2 snapshot is the final model's means (in float16): aligned, it lands on the final map
    np.testing.assert_allclose(atlas.snapshot_coords[2], atlas.coords, atol=5e-3)
    assert np.abs(atlas.snapshot_coords[0] - atlas.coords).max() > 0.05


def test_dimension_usage_of_a_vae(flat_checkpoint: Path, fake_mnist: list[str]) -> None:
    build_atlas(flat_checkpoint, log=quiet)
    atlas = load_atlas(flat_checkpoint)
    assert atlas.usage_label == "mean KL (nats)"
    by_hand = 0.5 * (np.exp(atlas.logvar) - atlas.logvar - 1 + atlas.mu**2)
    np.testing.assert_allclose(atlas.dim_usage, by_hand.mean(0), rtol=1e-2, atol=1e-3)
    kl = read_meta(flat_checkpoint).raw["history"][-1]["test"]["kl"]
    assert float(atlas.dim_usage.sum()) == pytest.approx(kl, rel=1e-3)  # the usages add up to the KL


def test_dimension_usage_by_hand() -> None:
    mu = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    logvar = torch.tensor([[0.0, float(np.log(4.0))], [0.0, float(np.log(4.0))]])
    usage, label = dimension_usage(mu, logvar)
    np.testing.assert_allclose(usage, [0.5, 0.5 * (4 - np.log(4) - 1)], rtol=1e-6)
    assert label == "mean KL (nats)"
    std, label = dimension_usage(torch.tensor([[1.0, 5.0], [3.0, 5.0]]), None)
    np.testing.assert_allclose(std, [np.sqrt(2.0), 0.0], rtol=1e-6)  # sample std (n − 1)
    assert label == "std of the code"


def test_atlas_of_an_autoencoder(tmp_path: Path, fake_train, fake_test, fake_mnist: list[str]) -> None:
    checkpoint = train_small(tmp_path / "ae_d2.safetensors", fake_train, fake_test, kind="ae", epochs=1)
    build_atlas(checkpoint, log=quiet)
    atlas = load_atlas(checkpoint)
    assert atlas.logvar is None
    assert atlas.usage_label == "std of the code"
    np.testing.assert_allclose(atlas.dim_usage, atlas.coords.std(0, ddof=1), rtol=1e-4)
    assert sorted(atlas.snapshot_coords) == [0, 1]  # 2 was asked for, but the run ended at 1, its last


@pytest.mark.slow
def test_tsne_map_of_a_higher_dimensional_model(checkpoint_copy: Path, fake_mnist: list[str], fake_test) -> None:
    messages: list[str] = []
    maps: list[tuple[int, int]] = []
    build_atlas(checkpoint_copy, seed=0, log=messages.append, on_map=lambda *call: maps.append(call))
    atlas = load_atlas(checkpoint_copy)
    assert atlas.method == "tsne"
    assert atlas.coords.shape == (len(fake_test), 2)
    assert atlas.mu.shape == (len(fake_test), 4)
    assert np.isfinite(atlas.coords).all()
    assert sorted(atlas.snapshot_coords) == [0, 2, 3]  # the configured epochs and the last
    assert all(c.shape == (len(fake_test), 2) for c in atlas.snapshot_coords.values())
    # the final map and the snapshots of epochs 0 and 2; epoch 3's frame is the final map itself
    assert sum(m.startswith("t-SNE of 256 points") for m in messages) == 3
    assert maps == [(0, 3), (1, 3), (2, 3)]  # announced before each, with their count
    np.testing.assert_allclose(atlas.snapshot_coords[3], atlas.coords, atol=1e-2 * np.abs(atlas.coords).max())
    assert np.abs(atlas.snapshot_coords[0] - atlas.coords).max() > 0.05
    # t-SNE keeps neighbourhoods: on this clustered fake data the nearest map point mostly shares the label
    distances = ((atlas.coords[:, None] - atlas.coords[None]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    agreement = (atlas.labels[distances.argmin(1)] == atlas.labels).mean()
    assert agreement > 0.9


# ---------------------------------------------------------------- refusing stale, missing, damaged atlases


def test_a_retrained_checkpoint_makes_the_atlas_stale(
    flat_checkpoint: Path, fake_mnist: list[str], fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    build_atlas(flat_checkpoint, log=quiet)
    load_atlas(flat_checkpoint)
    meta = read_meta(flat_checkpoint).raw
    config = dataclasses.replace(TrainConfig.from_dict(meta["train"]), epochs=3)
    fit(ModelConfig.from_dict(meta["model"]), config, fake_train, fake_test, flat_checkpoint, "cpu", True, False, quiet)
    with pytest.raises(AtlasError) as info:
        load_atlas(flat_checkpoint)
    message = str(info.value)
    assert "another version of vae_d2.safetensors" in message
    assert f"python -m vae atlas {flat_checkpoint}" in message
    assert load_atlas(flat_checkpoint, verify=False).checkpoint_sha256 != file_sha256(flat_checkpoint)
    build_atlas(flat_checkpoint, log=quiet)  # rebuilding fixes it
    assert load_atlas(flat_checkpoint).checkpoint_sha256 == file_sha256(flat_checkpoint)


def test_a_missing_atlas(tmp_path: Path) -> None:
    checkpoint = tmp_path / "vae_d9.safetensors"
    with pytest.raises(AtlasError) as info:
        load_atlas(checkpoint)
    message = str(info.value)
    assert "vae_d9.atlas.safetensors is missing" in message
    assert f"python -m vae atlas {checkpoint}" in message


@pytest.mark.parametrize(
    "content", [b"", b"garbage" * 10, b"\x02\x00\x00\x00\x00\x00\x00\x00{}"], ids=["empty", "text", "no tensors"]
)
def test_a_damaged_atlas(flat_checkpoint: Path, content: bytes) -> None:
    atlas_path(flat_checkpoint).write_bytes(content)
    with pytest.raises(AtlasError) as info:
        load_atlas(flat_checkpoint)
    assert "cannot be read" in str(info.value)
    assert "python -m vae atlas" in str(info.value)


def test_a_checkpoint_file_is_not_an_atlas(flat_checkpoint: Path) -> None:
    atlas_path(flat_checkpoint).write_bytes(flat_checkpoint.read_bytes())
    with pytest.raises(AtlasError, match="not an atlas file"):
        load_atlas(flat_checkpoint)


# ---------------------------------------------------------------- Procrustes


@pytest.mark.parametrize("reflect", [False, True])
def test_procrustes_recovers_a_rotated_scaled_shifted_copy(reflect: bool) -> None:
    rng = np.random.default_rng(0)
    target = rng.normal(size=(200, 2)) * [3.0, 1.0]
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    if reflect:
        rotation = rotation @ np.diag([1.0, -1.0])
    source = 0.25 * (target @ rotation.T) + np.array([10.0, -4.0])
    aligned = procrustes_align(source, target)
    assert aligned.dtype == np.float32
    np.testing.assert_allclose(aligned, target, atol=1e-4)


def test_procrustes_of_identical_maps_is_the_identity() -> None:
    points = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32)
    np.testing.assert_allclose(procrustes_align(points, points), points, atol=1e-5)


@pytest.mark.slow
def test_snapshot_maps_of_a_tsne_atlas_cover_a_fixed_sample(
    checkpoint_copy: Path, fake_mnist: list[str], fake_test, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vae.atlas.SNAPSHOT_MAP_ROWS", 100)
    build_atlas(checkpoint_copy, seed=0, log=quiet)
    atlas = load_atlas(checkpoint_copy)
    assert len(atlas.snapshot_rows) == 100 and len(set(atlas.snapshot_rows.tolist())) == 100
    assert np.isfinite(atlas.coords).all()  # the final map covers every digit
    for coords in atlas.snapshot_coords.values():
        assert coords.shape == (len(fake_test), 2)
        assert np.isfinite(coords[atlas.snapshot_rows]).all()
        assert np.isnan(np.delete(coords, atlas.snapshot_rows, axis=0)).all()


@pytest.mark.slow
def test_a_shipped_copy_takes_its_snapshot_codes_from_its_run(
    checkpoint_copy: Path, tmp_path: Path, fake_mnist: list[str], fake_train, fake_test
) -> None:
    shipped = tmp_path / "shipped.safetensors"
    export_checkpoint(checkpoint_copy, shipped)  # d = 4: the shipped copy keeps no test codes
    build_atlas(shipped, log=quiet)
    assert load_atlas(shipped).snapshot_coords == {}
    build_atlas(shipped, log=quiet, run=checkpoint_copy)
    assert sorted(load_atlas(shipped).snapshot_coords) == [0, 2, 3]
    other = train_small(tmp_path / "other.safetensors", fake_train, fake_test, d=4, epochs=1)
    with pytest.raises(AtlasError, match="not the run"):
        build_atlas(shipped, log=quiet, run=other)


def test_a_2d_model_needs_no_map_to_be_computed(flat_checkpoint: Path, fake_mnist: list[str]) -> None:
    maps: list[tuple[int, int]] = []
    build_atlas(flat_checkpoint, log=quiet, on_map=lambda *call: maps.append(call))
    assert maps == []


def test_kept_snapshots_spread_from_the_first_to_the_last_and_keep_the_checkpoints_own() -> None:
    epochs = list(range(151))  # a file holding a snapshot of every epoch
    kept = kept_snapshots(epochs, own=150, most=10)
    assert len(kept) == 11 and kept[0] == 0 and kept[-1] == 150 and 149 in kept
    assert kept == sorted(set(kept))
    assert kept_snapshots([0, 1, 5], own=5, most=10) == [0, 1, 5]  # under the bound: all
    assert kept_snapshots([0, 1, 5], own=5, most=None) == [0, 1, 5]
    assert kept_snapshots([0, 2, 3], own=3, most=1) == [0, 3]
    assert kept_snapshots([0, 2, 3], own=3, most=0) == [3]


@pytest.mark.slow
def test_a_bounded_atlas_maps_the_kept_snapshots_and_names_the_rest(
    checkpoint_copy: Path, fake_mnist: list[str]
) -> None:
    build_atlas(checkpoint_copy, seed=0, log=quiet, max_snapshots=1)
    atlas = load_atlas(checkpoint_copy)
    assert sorted(atlas.snapshot_coords) == [0, 3] and atlas.snapshots_left_out == (2,)
    build_atlas(checkpoint_copy, seed=0, log=quiet)
    assert sorted(load_atlas(checkpoint_copy).snapshot_coords) == [0, 2, 3]
    assert load_atlas(checkpoint_copy).snapshots_left_out == ()
