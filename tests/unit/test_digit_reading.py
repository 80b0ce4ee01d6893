"""The verdict (vote of the nearest test codes), per-image scores stored with the map, posterior digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from vae import data
from vae.atlas import add_scores, atlas_path, build_atlas, load_atlas
from vae.checkpoint import load_checkpoint
from vae.config import ModelConfig
from vae.data import MnistSplit
from vae.evaluate import split_loss
from vae.model import build_model
from vae.posterior import NoPosteriorError, posterior_digits
from vae.scores import percentile_rank, score_images
from vae.verdict import read_digit


def bank_with(labels_by_distance: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Codes on a line at 1, 2, 3, … from the origin, labelled in that order, plus far-away decoys."""
    near = np.arange(1, len(labels_by_distance) + 1, dtype=np.float32)[:, None] * np.array([[1.0, 0.0]])
    far = np.full((20, 2), 100.0, dtype=np.float32)
    return np.vstack([near, far]), np.array(labels_by_distance + [9] * 20)


def test_verdict_is_the_majority_of_the_ten_nearest() -> None:
    bank, labels = bank_with([3, 3, 5, 3, 3, 3, 3, 3, 8, 3])
    verdict = read_digit(np.zeros(2), bank, labels)
    assert (verdict.label, verdict.votes, verdict.k) == (3, 8, 10)
    assert verdict.runner_up is None and not verdict.close  # 1 vote is not close to 8
    assert verdict.neighbours.tolist() == list(range(10))
    assert verdict.counts[3] == 8 and verdict.counts.sum() == 10


def test_runner_up_is_named_when_close() -> None:
    bank, labels = bank_with([4, 9, 9, 4, 4, 9, 4, 4, 1, 4])
    verdict = read_digit(np.zeros(2), bank, labels)
    assert (verdict.label, verdict.votes, verdict.runner_up, verdict.runner_up_votes) == (4, 6, 9, 3)


def test_a_tie_goes_to_the_digit_with_the_nearest_voter() -> None:
    bank, labels = bank_with([7, 1, 1, 7, 1, 7, 1, 7, 1, 7])
    verdict = read_digit(np.zeros(2), bank, labels)
    assert (verdict.label, verdict.votes, verdict.runner_up) == (7, 5, 1)


def test_percentile_rank() -> None:
    scores = np.arange(100, dtype=np.float32)
    assert percentile_rank(87.5, scores) == 88.0
    assert percentile_rank(-1, scores) == 0.0 and percentile_rank(1e9, scores) == 100.0


def test_scores_are_the_test_figures_estimator(trained_checkpoint: Path, fake_test: MnistSplit) -> None:
    """Averaged over the test set, the per-image scores are the test −ELBO terms the checkpoint reports."""
    model = load_checkpoint(trained_checkpoint)
    scores = score_images(model, fake_test.images)
    one_sample = split_loss(model, fake_test.images)
    assert scores.recon.shape == scores.kl.shape == (len(fake_test),)
    assert float(scores.kl.mean()) == pytest.approx(one_sample["kl"], rel=1e-4)  # exact in both
    assert float(scores.recon.mean()) == pytest.approx(one_sample["recon"], rel=0.02)  # 32 samples vs 1
    assert np.array_equal(score_images(model, fake_test.images).recon, scores.recon)  # seeded
    single = score_images(model, fake_test.images[:1])  # one digit, as the app scores it
    assert single.total[0] == pytest.approx(scores.total[0], rel=0.02)


def test_autoencoder_score_is_its_reconstruction() -> None:
    model = build_model(ModelConfig(kind="ae", hidden_dim=16, latent_dim=3)).eval()
    scores = score_images(model, torch.rand(5, 784))
    assert scores.kl is None and scores.total.shape == (5,)


@pytest.fixture
def fake_mnist(monkeypatch: pytest.MonkeyPatch, fake_test: MnistSplit) -> None:
    monkeypatch.setattr(data, "load_mnist", lambda split, data_dir=None, progress=None: fake_test)
    monkeypatch.setattr("vae.atlas.TSNE_ITERATIONS", 300)  # 256 fake points settle long before 1000


@pytest.mark.slow
def test_atlas_stores_scores_and_add_scores_keeps_the_map(checkpoint_copy: Path, fake_mnist: None) -> None:
    build_atlas(checkpoint_copy, log=lambda _m: None)
    atlas = load_atlas(checkpoint_copy)
    assert atlas.scores is not None and atlas.scores.kl is not None
    # An atlas from before scores: drop them; it still loads, with no scores.
    path = atlas_path(checkpoint_copy)
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata()
        tensors = {k: handle.get_tensor(k) for k in handle.keys() if not k.startswith("score.")}  # noqa: SIM118
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={k: v for k, v in meta.items() if k != "score_method"})
    old = load_atlas(checkpoint_copy)
    assert old.scores is None
    add_scores(checkpoint_copy, log=lambda _m: None)
    filled = load_atlas(checkpoint_copy)
    assert np.array_equal(filled.coords, old.coords) and np.array_equal(filled.mu, old.mu)  # the map is kept
    assert np.allclose(filled.scores.total, atlas.scores.total)


def test_posterior_digits_are_reproducible_and_leave_the_global_rng_alone(trained_checkpoint: Path) -> None:
    model = load_checkpoint(trained_checkpoint)
    image = torch.rand(1, 1, 28, 28)
    state = torch.random.get_rng_state()
    first = posterior_digits(model, image, count=16, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    again = posterior_digits(model, image, count=16, seed=5)
    other = posterior_digits(model, image, count=16, seed=6)
    assert first.samples.shape == (16, 28, 28) and first.samples.dtype == np.uint8
    assert np.array_equal(first.samples, again.samples) and not np.array_equal(first.samples, other.samples)
    assert len({s.tobytes() for s in first.samples}) > 1  # sixteen draws, not one
    with torch.no_grad():
        mu, logvar = model.encode(image.reshape(1, 784))
    sigma = torch.exp(0.5 * logvar)
    z = torch.from_numpy(first.z)
    assert (((z - mu) / sigma).abs() < 6).all()  # the draws lie inside the bubble N(μ, σ²)
    expected = (model.decode(mu)[0, 0] * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(first.mean, expected)


def test_the_autoencoder_has_no_posterior() -> None:
    model = build_model(ModelConfig(kind="ae", hidden_dim=16, latent_dim=3)).eval()
    with pytest.raises(NoPosteriorError):
        posterior_digits(model, torch.rand(1, 1, 28, 28))
