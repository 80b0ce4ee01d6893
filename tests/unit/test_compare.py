"""The Compare view's numbers: active coordinates, and one model card from the shipped checkpoints."""

from __future__ import annotations

import numpy as np
import torch

from explorer.words.catalog import recipe
from vae.atlas import coordinates_used, dimension_usage, unused_dimensions
from vae.checkpoint import load_checkpoint
from vae.comparison import model_card
from vae.data import MnistSplit


def test_a_coordinate_counts_as_used_as_the_sliders_count_it() -> None:
    rng = torch.Generator().manual_seed(0)
    mu = torch.randn(2000, 5, generator=rng) * torch.tensor([1.0, 0.5, 0.2, 0.05, 0.0])
    assert coordinates_used(mu, None) == 3  # an autoencoder: variances 1, 0.25, 0.04 pass 0.01; 0.0025 and 0 do not
    # A VAE with σ = 1: mean KL ½·E[μ²] = 0.5, 0.125, 0.02, 0.001, 0 nats; two reach 0.05.
    logvar = torch.zeros_like(mu)
    assert coordinates_used(mu, logvar) == 2
    usage, label = dimension_usage(mu, logvar)
    assert unused_dimensions(usage, label) == 5 - 2  # the sliders' "(unused)" are exactly the others


def test_cards_of_two_kinds_use_the_same_seed_and_the_same_digits(fake_test: MnistSplit) -> None:
    cards = [
        model_card(name, load_checkpoint(f"checkpoints/{name}.safetensors"), fake_test.images, 3, (0, 1), seed=7)
        for name in ("vae_d20", "ae_d20")
    ]
    vae, ae = cards
    assert vae.samples.shape == (8, 28, 28) and vae.samples.dtype == np.uint8
    assert vae.morph.shape == (8, 28, 28) and vae.reconstruction.shape == (28, 28)
    assert vae.neg_elbo == vae.recon + vae.kl and vae.kl > 0
    assert ae.neg_elbo is None and ae.kl is None  # shown as "—", not a KL of 0
    assert (recipe(vae.summary), recipe(ae.summary)) == ("β = 1 · 400 epochs", "100 epochs")  # as recorded
    assert 0 < vae.active <= 20 and 0 < ae.active <= 20
    again = model_card("vae_d20", load_checkpoint("checkpoints/vae_d20.safetensors"), fake_test.images, 3, (0, 1), 7)
    assert np.array_equal(again.samples, vae.samples)  # the same seed gives the same prior samples
    # the morph starts and ends at the two digits' own reconstructions
    assert np.array_equal(
        vae.morph[0],
        model_card(
            "x", load_checkpoint("checkpoints/vae_d20.safetensors"), fake_test.images, 0, (0, 1), 7
        ).reconstruction,
    )
