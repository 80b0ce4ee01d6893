"""Per-image scores that one digit can honestly be compared with: −ELBO = reconstruction + KL.

The reconstruction term is E_q[−log p(x|z)], estimated by averaging SAMPLES posterior draws (one
draw, as in training, is too noisy to rank a single image); the KL to the prior is exact. The test
set's scores are computed once with this same function and stored in the atlas, so a digit's
percentile compares like with like. An autoencoder has no posterior: its score is the
reconstruction of its code alone. `python -m vae atlas CHECKPOINT --scores-only` fills them into an
existing atlas (vae/atlas.py: add_scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.losses import kl_to_prior, reconstruction_nats
from vae.model import LatentModel, sample_posterior

SAMPLES = 32
SEED = 0
METHOD = f"-ELBO: reconstruction averaged over {SAMPLES} posterior samples + exact KL (nats)"


@dataclass(frozen=True)
class Scores:
    recon: np.ndarray  # float32 [N], nats
    kl: np.ndarray | None  # float32 [N], nats; None for the autoencoder

    @property
    def total(self) -> np.ndarray:
        return self.recon if self.kl is None else self.recon + self.kl


@torch.no_grad()
def score_images(
    model: LatentModel, images: torch.Tensor, samples: int = SAMPLES, seed: int = SEED, batch_size: int = 500
) -> Scores:
    """Reconstruction and KL of every image (float [N, 784] or [N, 1, 28, 28] in [0, 1])."""
    device = next(model.parameters()).device
    generator = torch.Generator(device).manual_seed(seed)
    flat = images.reshape(images.shape[0], -1).float()
    recons, kls = [], []
    for start in range(0, flat.shape[0], batch_size):
        x = flat[start : start + batch_size].to(device)
        mu, logvar = model.encode(x)
        if logvar is None:
            recons.append(reconstruction_nats(model.decode_logits(mu), x, reduction="none"))
            continue
        n = x.shape[0]
        z = sample_posterior(mu.repeat_interleave(samples, 0), logvar.repeat_interleave(samples, 0), generator)
        nats = reconstruction_nats(model.decode_logits(z), x.repeat_interleave(samples, 0), reduction="none")
        recons.append(nats.view(n, samples).mean(1))
        kls.append(kl_to_prior(mu, logvar, reduction="none"))
    recon = torch.cat(recons).float().cpu().numpy()
    kl = torch.cat(kls).float().cpu().numpy() if kls else None
    return Scores(recon=recon, kl=kl)


def percentile_rank(value: float, scores: np.ndarray) -> float:
    """Percentage of `scores` strictly below `value`: "more unusual than P % of test digits"."""
    return 100.0 * float(np.mean(np.asarray(scores) < value))


NOVELTY_PERCENTILE = 99.9  # a digit whose −ELBO is past this share of the test digits' is not read as a digit


@dataclass(frozen=True)
class NoveltyCut:
    """The model's own likelihood as a novelty detector: −ELBO above `nats` is "not a digit" to it."""

    nats: float
    percentile: float
    flagged: int  # test digits at or above the cut (the false alarms among real digits)
    total: int

    def flags(self, score: float) -> bool:
        return float(score) > self.nats


def novelty_cut(test_scores: np.ndarray, percentile: float = NOVELTY_PERCENTILE) -> NoveltyCut:
    scores = np.asarray(test_scores, dtype=np.float64)
    nats = float(np.percentile(scores, percentile))
    return NoveltyCut(nats, percentile, int(np.sum(scores > nats)), len(scores))
