"""The Compare view's numbers: active coordinates, and one model card from the shipped checkpoints."""

from __future__ import annotations

import numpy as np
import torch

from explorer.compare import active_coordinates, model_card
from vae.checkpoint import load_checkpoint
from vae.data import MnistSplit


def test_only_coordinates_that_vary_across_the_data_count_as_used() -> None:
    rng = torch.Generator().manual_seed(0)
    mu = torch.randn(2000, 5, generator=rng) * torch.tensor([1.0, 0.5, 0.2, 0.05, 0.0])
    assert active_coordinates(mu) == 3  # variances 1, 0.25, 0.04 pass 0.01; 0.0025 and 0 do not


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
