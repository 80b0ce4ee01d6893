"""One digit through the model: its code, reconstruction, both loss terms, neighbours and place on the map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.images import as_uint8
from vae.latent import nearest, place_on_map
from vae.losses import kl_to_prior, reconstruction_nats
from vae.mnist_shape import PIXELS
from vae.model import LatentModel


@dataclass(frozen=True)
class DigitAnalysis:
    mu: np.ndarray  # [d]
    sigma: np.ndarray | None  # [d]; None for the autoencoder
    reconstruction: np.ndarray  # uint8 [28, 28], decoded from μ
    recon_nats: float  # binary cross-entropy of the reconstruction, summed over pixels
    kl_nats: float | None  # KL(q(z|x) ‖ N(0, I)); None for the autoencoder
    map_xy: tuple[float, float] | None  # its place on the map, None without an atlas
    neighbours: np.ndarray  # test row ids nearest in μ, closest first
    distances: np.ndarray


@torch.no_grad()
def analyse_digit(
    model: LatentModel,
    image: torch.Tensor,
    bank_mu: np.ndarray | None = None,
    bank_coords: np.ndarray | None = None,
    k: int = 8,
) -> DigitAnalysis:
    """Encode one MNIST-style image [1, 1, 28, 28]: code, reconstruction, its two loss terms, neighbours."""
    x = image.reshape(1, PIXELS).float().to(next(model.parameters()).device)
    mu, logvar = model.encode(x)
    logits = model.decode_logits(mu)
    recon = as_uint8(torch.sigmoid(logits).cpu().numpy())[0]
    neighbours = distances = np.zeros(0, dtype=np.int64)
    map_xy = None
    if bank_mu is not None:
        bank = torch.tensor(bank_mu, dtype=torch.float32)  # a copy: the cached atlas stays untouched
        index, dist = nearest(mu.cpu(), bank, k)
        neighbours, distances = index[0].numpy(), dist[0].numpy()
        if bank_coords is not None:
            xy = place_on_map(mu.cpu(), bank, torch.tensor(bank_coords, dtype=torch.float32), k)[0]
            map_xy = (float(xy[0]), float(xy[1]))
    return DigitAnalysis(
        mu=mu[0].cpu().numpy(),
        sigma=None if logvar is None else torch.exp(0.5 * logvar[0]).cpu().numpy(),
        reconstruction=recon,
        recon_nats=float(reconstruction_nats(logits, x)),
        kl_nats=None if logvar is None else float(kl_to_prior(mu, logvar)),
        map_xy=map_xy,
        neighbours=neighbours,
        distances=distances,
    )
