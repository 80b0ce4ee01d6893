"""The VAE loss, its terms kept apart (nats, summed over pixels and over the batch).

loss = BCE(x̂, x) summed over the 784 pixels + β·KL,   KL = ½·Σ(σ² − log σ² − 1 + μ²)
(Kingma & Welling 2014, appendix B). The variance term keeps each posterior "bubble" from
collapsing, the μ² term pulls all bubbles towards 0; reconstruction pushes them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class LossTerms:
    """Sums over the batch; divide by the number of images for nats per image."""

    recon: torch.Tensor
    kl: torch.Tensor
    total: torch.Tensor

    def detach(self) -> LossTerms:
        return LossTerms(self.recon.detach(), self.kl.detach(), self.total.detach())


def reconstruction_nats(logits: torch.Tensor, x: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """Binary cross-entropy summed over pixels, computed on logits (stable, no clamping)."""
    target = x.reshape(logits.shape)
    if reduction == "none":
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(dim=-1)
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum")


def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) = ½·Σ(σ² − log σ² − 1 + μ²); exactly 0 at μ = 0, log σ² = 0."""
    per_dim = 0.5 * (torch.exp(logvar) - logvar - 1.0 + mu * mu)
    return per_dim.sum(dim=-1) if reduction == "none" else per_dim.sum()


def elbo_loss(
    logits: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor | None,
    beta: float = 1.0,
) -> LossTerms:
    """Reconstruction + β·KL. With logvar None (the plain autoencoder) the KL term is 0."""
    recon = reconstruction_nats(logits, x)
    kl = kl_to_prior(mu, logvar) if logvar is not None else recon.new_zeros(())
    return LossTerms(recon=recon, kl=kl, total=recon + beta * kl)
