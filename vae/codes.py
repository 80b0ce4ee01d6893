"""Codes in and out of a model, for one caller at a time: encode images to their means, decode a code,
sample the prior, size the 2-D plane. Arrays from a shared cache are only read here, never written."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vae.latent import decode_to_uint8, encode_all, sample_prior
from vae.mnist_shape import PIXELS
from vae.model import LatentModel

PRIOR_EXTENT = 3.0  # ±3 prior standard deviations


def decode_code(model: LatentModel, z: Sequence[float] | np.ndarray | torch.Tensor) -> np.ndarray:
    """One code → its decoded digit, uint8 [28, 28]."""
    return decode_to_uint8(model, torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(1, -1))[0].numpy()


def encode_means(model: LatentModel, images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """μ of each image [N, 784] in [0, 1] (the autoencoder: its code); eval mode, no gradients."""
    return encode_all(model, torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(-1, PIXELS))[0].cpu()


def fresh_seed() -> int:
    """A new random seed, small enough to read and type back."""
    return secrets.randbelow(1_000_000)


def random_code(latent_dim: int, seed: int) -> list[float]:
    return sample_prior(1, latent_dim, 1.0, seed)[0].tolist()


@dataclass(frozen=True)
class PriorSamples:
    codes: torch.Tensor  # [count, d]
    images: np.ndarray  # uint8 [count, 28, 28]


def prior_samples(model: LatentModel, count: int, temperature: float, seed: int) -> PriorSamples:
    """Digits decoded from z ~ N(0, T²·I); the same seed always gives the same digits."""
    if not 1 <= count <= 256:
        raise ValueError("the number of samples must be between 1 and 256")
    codes = sample_prior(count, model.latent_dim, temperature, seed)
    return PriorSamples(codes, decode_to_uint8(model, codes).numpy())


def plane_extent(mu: np.ndarray, coverage: float = 99.5) -> float:
    """Half-width of the 2-D plane to draw: at least the prior's ±3σ, wide enough for `coverage`% of
    the test means on both axes (the aggregate posterior can spread past ±3), rounded up to 0.5."""
    reach = float(np.percentile(np.abs(np.asarray(mu, dtype=np.float32)), coverage))
    return max(PRIOR_EXTENT, float(np.ceil(reach * 2) / 2))
