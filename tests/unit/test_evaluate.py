"""Test-set numbers: one-sample terms, the k-sample −ELBO and the IWAE bound, the report."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from vae.checkpoint import load_checkpoint
from vae.config import ModelConfig
from vae.data import MnistSplit
from vae.evaluate import evaluate, k_sample_bounds, split_loss
from vae.losses import elbo_loss, reconstruction_nats
from vae.model import build_model, sample_posterior


@pytest.fixture
def trained(trained_checkpoint: Path) -> torch.nn.Module:
    return load_checkpoint(trained_checkpoint)


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_split_loss_agrees_with_elbo_loss(trained: torch.nn.Module, fake_test: MnistSplit, beta: float) -> None:
    x = fake_test.images
    result = split_loss(trained, x, beta=beta, seed=4)
    with torch.no_grad():
        mu, logvar = trained.encode(x)
        z = sample_posterior(mu, logvar, torch.Generator().manual_seed(4))
        terms = elbo_loss(trained.decode_logits(z), x, mu, logvar, beta=beta)
    n = len(fake_test)
    assert result["recon"] == pytest.approx(terms.recon.item() / n, rel=1e-5)
    assert result["kl"] == pytest.approx(terms.kl.item() / n, rel=1e-5)
    assert result["total"] == pytest.approx(terms.total.item() / n, rel=1e-5)
    assert result["total"] == pytest.approx(result["recon"] + beta * result["kl"], rel=1e-12)


def test_split_loss_is_reproducible_per_seed_and_batched_alike(trained: torch.nn.Module, fake_test: MnistSplit) -> None:
    x = fake_test.images
    a, b, c = split_loss(trained, x, seed=0), split_loss(trained, x, seed=0), split_loss(trained, x, seed=1)
    assert a == b
    assert a["recon"] != c["recon"]
    assert a["kl"] == pytest.approx(c["kl"], rel=1e-6)  # the KL does not depend on the sample
    batched = split_loss(trained, x, seed=0, batch_size=100)
    assert batched["kl"] == pytest.approx(a["kl"], rel=1e-6)


def test_split_loss_of_an_autoencoder_uses_its_code(fake_test: MnistSplit) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="ae", hidden_dim=16, latent_dim=3)).eval()
    x = fake_test.images
    result = split_loss(model, x, seed=0)
    with torch.no_grad():
        recon = reconstruction_nats(model.decode_logits(model.encode(x)[0]), x).item() / len(x)
    assert result == pytest.approx({"recon": recon, "kl": 0.0, "total": recon}, rel=1e-5)


def test_iwae_is_at_least_as_tight_as_the_elbo(trained: torch.nn.Module, fake_test: MnistSplit) -> None:
    for k in (2, 10, 50):
        bounds = k_sample_bounds(trained, fake_test.images, k=k, seed=0)
        assert bounds["k"] == k
        assert bounds["neg_iwae_k"] <= bounds["neg_elbo_k"]
        assert bounds["neg_iwae_k"] < bounds["neg_elbo_k"] - 1e-3  # strictly better once the samples differ


def test_with_one_sample_the_bounds_coincide(trained: torch.nn.Module, fake_test: MnistSplit) -> None:
    bounds = k_sample_bounds(trained, fake_test.images, k=1, seed=0)
    assert bounds["neg_iwae_k"] == pytest.approx(bounds["neg_elbo_k"], rel=1e-12)


def constant_decoder_vae(fake_test: MnistSplit) -> tuple[torch.nn.Module, float]:
    """A VAE whose decoder ignores z (zero weights): then log p(x|z) = log p(x) is known exactly."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(hidden_dim=32, latent_dim=3)).eval()
    with torch.no_grad():
        model.encoder[2].bias[:3] += 1.5  # posteriors well away from the prior: a KL of a few nats
        model.encoder[2].bias[3:] += math.log(0.3)
        model.decoder[2].weight.zero_()
        model.decoder[2].bias.copy_(torch.linspace(-2, 2, 784))
    logits = model.decoder[2].bias.expand(len(fake_test), 784)
    recon = reconstruction_nats(logits, fake_test.images).item() / len(fake_test)
    return model, recon


@pytest.mark.slow
def test_bounds_of_a_model_whose_decoder_ignores_z(fake_test: MnistSplit) -> None:
    # With p(x|z) = p(x): −ELBO = recon + KL exactly in expectation (the sampled log q − log p average
    # to the analytic KL), and log p(x) = −recon, which the IWAE bound approaches from above as k grows.
    model, recon = constant_decoder_vae(fake_test)
    one = split_loss(model, fake_test.images, seed=0)
    assert one["recon"] == pytest.approx(recon, rel=1e-6)
    bounds = k_sample_bounds(model, fake_test.images, k=400, seed=0)
    assert one["kl"] > 2.0
    assert bounds["neg_elbo_k"] == pytest.approx(recon + one["kl"], abs=0.05)
    assert bounds["neg_iwae_k"] >= recon - 1e-3
    assert bounds["neg_iwae_k"] - recon < 0.5 * one["kl"]  # most of the way from −ELBO to −log p(x)


def test_evaluate_report_of_a_vae(trained: torch.nn.Module, fake_test: MnistSplit) -> None:
    report = evaluate(trained, fake_test.images, k=5, beta=1.0, seed=0)
    assert set(report) == {"images", "recon", "kl", "neg_elbo", "neg_elbo_k", "neg_iwae_k", "k"}
    assert report["images"] == len(fake_test)
    one = split_loss(trained, fake_test.images, seed=0)
    assert report["recon"] == one["recon"]
    assert report["kl"] == one["kl"]
    assert report["neg_elbo"] == pytest.approx(one["recon"] + one["kl"])
    assert report["neg_iwae_k"] <= report["neg_elbo_k"]
    assert report == evaluate(trained, fake_test.images, k=5, beta=1.0, seed=0)


def test_neg_elbo_ignores_beta(trained: torch.nn.Module, fake_test: MnistSplit) -> None:
    a = evaluate(trained, fake_test.images, k=0, beta=1.0)
    b = evaluate(trained, fake_test.images, k=0, beta=4.0)
    assert a == b
    assert set(a) == {"images", "recon", "kl", "neg_elbo"}


def test_evaluate_of_an_autoencoder_has_no_elbo(fake_test: MnistSplit) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="ae", hidden_dim=16, latent_dim=3)).eval()
    report = evaluate(model, fake_test.images, k=5)
    assert set(report) == {"images", "recon", "kl"}
    assert report["kl"] == 0.0
    assert math.isfinite(report["recon"])
