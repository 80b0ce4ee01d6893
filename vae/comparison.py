"""What the Compare view puts side by side for each model: the same prior samples, the same morph, the
same digit's reconstruction, the test-set terms and how many coordinates the model uses.

Plain functions on a model and the test images (no Streamlit), so each number is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.atlas import coordinates_used
from vae.catalog import CheckpointSummary, summarize_model
from vae.evaluate import split_loss
from vae.kinds import kind_of
from vae.latent import decode_to_uint8, encode_all, interpolate, sample_prior
from vae.model import LatentModel


@dataclass(frozen=True)
class ModelCard:
    name: str
    kind: str
    latent_dim: int
    summary: CheckpointSummary | None  # its β and epochs, as its file records them (None: a bare model)
    recon: float  # nats per test image
    kl: float | None  # nats per test image; None for the autoencoder, which has no prior to measure against
    neg_elbo: float | None  # recon + KL for a VAE (β = 1 bound whatever β it was trained with); None for an AE
    active: int  # coordinates in use (vae.atlas.coordinates_used: the sliders' "(unused)" are not)
    samples: np.ndarray  # uint8 [S, 28, 28]: decoded prior samples, the same z-seed for every model
    morph: np.ndarray  # uint8 [F + 2, 28, 28]: first digit, the in-between codes, second digit
    reconstruction: np.ndarray  # uint8 [28, 28]


@torch.no_grad()
def model_card(
    name: str,
    model: LatentModel,
    test_images: torch.Tensor,
    digit: int,
    morph_pair: tuple[int, int],
    seed: int = 0,
    samples: int = 8,
    frames: int = 6,
) -> ModelCard:
    """Everything the Compare view shows for one model; `digit` and `morph_pair` are test-set rows."""
    terms = split_loss(model, test_images, beta=1.0, seed=seed)
    mu, logvar = encode_all(model, test_images)
    ends = mu[list(morph_pair)]
    codes = torch.cat((ends[:1], interpolate(ends[0], ends[1], frames, "linear"), ends[1:]))
    return ModelCard(
        name=name,
        kind=model.kind,
        latent_dim=model.latent_dim,
        summary=summarize_model(model) if getattr(model, "meta", None) is not None else None,
        recon=terms["recon"],
        kl=terms["kl"] if kind_of(model).has_posterior else None,
        neg_elbo=terms["recon"] + terms["kl"] if kind_of(model).has_posterior else None,
        active=coordinates_used(mu, logvar),
        samples=decode_to_uint8(model, sample_prior(samples, model.latent_dim, seed=seed)).numpy(),
        morph=decode_to_uint8(model, codes).numpy(),
        reconstruction=decode_to_uint8(model, mu[digit : digit + 1])[0].numpy(),
    )
