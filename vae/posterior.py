"""The posterior as digits: draws z ~ q(z|x) decoded beside the reconstruction of μ.

The lecture draws each code as a bubble N(μ, σ²); decoding points inside it shows what the model
considers the same digit. A plain autoencoder maps an image to one point: it has no bubble.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.latent import decode_to_uint8
from vae.model import LatentModel, sample_posterior

SAMPLES = 16


class NoPosteriorError(ValueError):
    """The model is a plain autoencoder: it encodes one point, not a distribution q(z|x)."""


@dataclass(frozen=True)
class PosteriorDigits:
    mean: np.ndarray  # uint8 [28, 28]: decoded μ
    samples: np.ndarray  # uint8 [count, 28, 28]: decoded z ~ q(z|x)
    z: np.ndarray  # float32 [count, d]


@torch.no_grad()
def posterior_digits(model: LatentModel, image: torch.Tensor, count: int = SAMPLES, seed: int = 0) -> PosteriorDigits:
    """Decode μ and `count` draws from q(z|x) of one image ([1, 1, 28, 28] or [784]); reproducible by seed."""
    device = next(model.parameters()).device
    mu, logvar = model.encode(image.reshape(1, -1).float().to(device))
    if logvar is None:
        raise NoPosteriorError("an autoencoder has no posterior q(z|x) to sample")
    generator = torch.Generator(device).manual_seed(int(seed))  # never the global RNG: sessions share it
    z = sample_posterior(mu.expand(count, -1), logvar.expand(count, -1), generator)
    return PosteriorDigits(
        mean=decode_to_uint8(model, mu)[0].numpy(),
        samples=decode_to_uint8(model, z).numpy(),
        z=z.float().cpu().numpy(),
    )
