"""The shipped models under checkpoints/: they load, reproduce their recorded numbers, their maps belong to
them, and the default model's map separates the digits.

Skipped while no checkpoint has been shipped yet; once any is there, all three must be.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from vae.atlas import load_atlas
from vae.checkpoint import (
    CHECKPOINT_DIR,
    default_checkpoint_path,
    file_sha256,
    load_checkpoint,
    open_checkpoint,
)
from vae.data import SPLITS, MnistSplit, load_mnist, md5_of
from vae.evaluate import evaluate
from vae.snapshots import read_record

SHIPPED = {
    # name: (kind, latent dim)
    "vae_d20": ("vae", 20),
    "ae_d20": ("ae", 20),
    "vae_d2": ("vae", 2),
}
NOISE_NATS = 0.05
MNIST_DIR = CHECKPOINT_DIR / "mnist"

present = sorted(p.name for p in CHECKPOINT_DIR.glob("*.safetensors") if not p.name.endswith(".atlas.safetensors"))
needs_checkpoints = pytest.mark.skipif(
    not present, reason=f"no shipped checkpoints in {CHECKPOINT_DIR} yet (they are trained and exported separately)"
)


def shipped(name: str) -> Path:
    path = CHECKPOINT_DIR / f"{name}.safetensors"
    assert path.is_file(), f"{path} is missing although other checkpoints are shipped: {present}"
    return path


@pytest.fixture(scope="module")
def mnist_test() -> MnistSplit:
    return load_mnist("test", progress=lambda _: None)


@needs_checkpoints
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checkpoint_loads(name: str) -> None:
    kind, d = SHIPPED[name]
    model = load_checkpoint(shipped(name))
    assert model.kind == kind
    assert model.latent_dim == d
    assert model.config.hidden_dim == 400
    tensors, checked = open_checkpoint(shipped(name))
    meta = checked.raw
    assert not any(k.startswith(("optim.", "rng.")) for k in tensors)  # exported, small
    assert meta["data_md5"]["test"] == {f.name: f.md5 for f in SPLITS["test"]}
    assert meta["data_md5"]["train"] == {f.name: f.md5 for f in SPLITS["train"]}
    expected = {"images", "recon", "kl"} | ({"neg_elbo", "neg_elbo_k", "neg_iwae_k", "k"} if kind == "vae" else set())
    assert set(meta["evaluation"]) == expected
    assert meta["evaluation"]["images"] == 10000
    typed = model.meta  # the same, parsed once into CheckpointMeta
    assert typed.model == model.config and typed.kind == kind and typed.train is not None
    assert typed.evaluation is not None and typed.evaluation.images == 10000
    assert (typed.evaluation.neg_iwae_k is not None) == (kind == "vae")
    assert typed.epoch == typed.train.epochs == typed.last_epoch.epoch
    assert typed.weights_dtype == "float16" and not typed.resumable
    if kind == "vae":
        assert meta["evaluation"]["neg_iwae_k"] <= meta["evaluation"]["neg_elbo_k"]


@needs_checkpoints
@pytest.mark.mnist
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checkpoint_reproduces_its_numbers(name: str, mnist_test: MnistSplit) -> None:
    model = load_checkpoint(shipped(name))
    recorded = model.meta.raw["evaluation"]
    report = evaluate(model, mnist_test.images, k=0, beta=model.meta.raw["train"]["beta"], seed=0)
    assert report["recon"] == pytest.approx(recorded["recon"], abs=NOISE_NATS)
    assert report["kl"] == pytest.approx(recorded["kl"], abs=NOISE_NATS)
    if model.kind == "vae":
        assert report["neg_elbo"] == pytest.approx(recorded["neg_elbo"], abs=NOISE_NATS)
    else:
        assert report["kl"] == 0.0


@needs_checkpoints
def test_the_default_is_the_lecture_vae() -> None:
    assert default_checkpoint_path() == shipped("vae_d20")
    model = load_checkpoint()
    assert model.kind == "vae"
    assert model.latent_dim == 20
    assert model.config.hidden_dim == 400
    assert model.meta.raw["train"]["beta"] == 1.0
    assert model.meta.raw["evaluation"]["neg_elbo"] <= 99.0  # issue 12's bar, one sample


@needs_checkpoints
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_shipped_model_carries_its_record_of_training(name: str) -> None:
    tensors, meta = open_checkpoint(shipped(name))
    record = read_record(tensors, meta.epoch)
    assert record is not None, f"{name} has no record: the Training view could not replay it"
    assert meta.history[0].epoch == 0 and len(meta.history) == meta.epoch + 1  # the loss before the first step
    assert record.panel_epochs[0] == 0 and record.panel_epochs[-1] == meta.epoch
    assert {0, 1, 2, 3, 5, 10} <= set(record.weight_epochs) and record.weight_epochs[-1] == meta.epoch


@needs_checkpoints
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_atlas_belongs_to_its_checkpoint(name: str) -> None:
    path = shipped(name)
    atlas = load_atlas(path, verify=True)
    assert atlas.checkpoint_sha256 == file_sha256(path)
    kind, d = SHIPPED[name]
    assert atlas.mu.shape == (10000, d)
    assert atlas.coords.shape == (10000, 2)
    assert (atlas.logvar is None) == (kind == "ae")
    assert atlas.method == ("latent" if d == 2 else "tsne")
    assert np.isfinite(atlas.coords).all()


@needs_checkpoints
@pytest.mark.mnist
def test_atlas_labels_are_the_test_labels(mnist_test: MnistSplit) -> None:
    for name in SHIPPED:
        np.testing.assert_array_equal(load_atlas(shipped(name)).labels, mnist_test.labels.numpy())


@needs_checkpoints
def test_the_default_map_separates_the_digits() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    atlas = load_atlas(shipped("vae_d20"))
    assert atlas.method == "tsne"
    fit_rows, score_rows = np.arange(0, 10000, 2), np.arange(1, 10000, 2)
    knn = KNeighborsClassifier(n_neighbors=5).fit(atlas.coords[fit_rows], atlas.labels[fit_rows])
    accuracy = knn.score(atlas.coords[score_rows], atlas.labels[score_rows])
    assert accuracy >= 0.95


def test_the_shipped_test_set_is_the_official_one() -> None:
    assert MNIST_DIR.is_dir(), f"{MNIST_DIR} (the test split shipped for the app's first start) is missing"
    for expected in SPLITS["test"]:
        payload = gzip.decompress((MNIST_DIR / f"{expected.name}.gz").read_bytes())
        assert md5_of(payload) == expected.md5, expected.name
