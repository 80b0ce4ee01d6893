"""Test-set numbers in nats per image: reconstruction, KL, −ELBO (1 and k samples), and the
importance-weighted bound log p(x) ≥ log 1/k Σ p(x|zᵢ)p(zᵢ)/q(zᵢ|x) (Burda et al. 2016)."""

from __future__ import annotations

import math

import torch

from vae.kinds import kind_of
from vae.losses import elbo_loss, log_posterior, log_prior, reconstruction_nats
from vae.model import LatentModel, sample_posterior


def _device(model: LatentModel) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def split_loss(
    model: LatentModel, images: torch.Tensor, beta: float = 1.0, seed: int = 0, batch_size: int = 2000
) -> dict[str, float]:
    """Reconstruction, KL and total with one posterior sample per image (the autoencoder: its code)."""
    device = _device(model)
    generator = torch.Generator(device).manual_seed(seed)
    sums = torch.zeros(2, dtype=torch.float64, device=device)
    for start in range(0, images.shape[0], batch_size):
        x = images[start : start + batch_size].to(device)
        mu, logvar = model.encode(x)
        z = mu if logvar is None else sample_posterior(mu, logvar, generator)
        terms = elbo_loss(model.decode_logits(z), x, mu, logvar, beta)
        sums += torch.stack((terms.recon, terms.kl)).double()
    recon, kl = (sums / images.shape[0]).tolist()
    return {"recon": recon, "kl": kl, "total": recon + beta * kl}


@torch.no_grad()
def k_sample_bounds(
    model: LatentModel, images: torch.Tensor, k: int, seed: int = 0, chunk: int = 8192
) -> dict[str, float]:
    """−ELBO averaged over k posterior samples and the k-sample importance-weighted bound (IWAE)."""
    device = _device(model)
    generator = torch.Generator(device).manual_seed(seed)
    per_batch = max(1, chunk // k)
    elbo_sum = iwae_sum = 0.0
    for start in range(0, images.shape[0], per_batch):
        x = images[start : start + per_batch].to(device)
        mu, logvar = model.encode(x)
        b = mu.shape[0]
        mu_k, logvar_k = mu.repeat_interleave(k, 0), logvar.repeat_interleave(k, 0)
        z = sample_posterior(mu_k, logvar_k, generator)
        log_px_z = -reconstruction_nats(model.decode_logits(z), x.repeat_interleave(k, 0), reduction="none")
        log_w = (log_px_z + log_prior(z) - log_posterior(z, mu_k, logvar_k)).view(b, k).double()
        elbo_sum += log_w.mean(1).sum().item()
        iwae_sum += (torch.logsumexp(log_w, 1) - math.log(k)).sum().item()
    n = images.shape[0]
    return {"neg_elbo_k": -elbo_sum / n, "neg_iwae_k": -iwae_sum / n, "k": k}


def evaluate(model: LatentModel, images: torch.Tensor, k: int = 1000, beta: float = 1.0, seed: int = 0) -> dict:
    """Every number the checkpoint metadata and `vae info` quote, in nats per image."""
    one = split_loss(model, images, beta=beta, seed=seed)
    report: dict = {"images": int(images.shape[0]), "recon": one["recon"], "kl": one["kl"]}
    if kind_of(model).has_posterior:
        report["neg_elbo"] = one["recon"] + one["kl"]
        if k > 0:
            report.update(k_sample_bounds(model, images, k, seed=seed))
    return report
