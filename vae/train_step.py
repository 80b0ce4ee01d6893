"""One training step, the lecture's: forward, loss = BCE summed over the pixels + β·KL, backward.

    loss = −Σ [x·log x̂ + (1 − x)·log(1 − x̂)] + β · ½·Σ(σ² − log σ² − 1 + μ²)

(Kingma & Welling 2014, appendix B; the terms are vae/losses.py's, summed over the batch.) With
precision "bf16" the matrix products run in bfloat16 under autocast; weights, Adam and the loss stay fp32.
"""

from __future__ import annotations

import torch

from vae.losses import LossTerms, elbo_loss
from vae.model import LatentModel, sample_posterior


def native_bf16(device: torch.device) -> bool:
    """Whether this device multiplies bf16 in hardware (elsewhere bf16 is emulated and slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """Turn "auto" into bf16 where the device has it natively, else fp32; keep fp32 and bf16 as asked."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


def draw_noise(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """ε ~ N(0, I) shaped like μ, from `generator` (the run's own) or, when None, the global one."""
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)


class TrainStep:
    """`step(x)`: the loss terms of batch x, its gradients left in the model's parameters for the optimizer."""

    def __init__(
        self, model: LatentModel, precision: str = "fp32", beta: float = 1.0, generator: torch.Generator | None = None
    ) -> None:
        self.model, self.precision, self.beta, self.generator = model, precision, beta, generator

    def __call__(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> LossTerms:
        """x: [N, 784] in [0, 1]. eps: the reparameterisation noise (drawn from the generator when None)."""
        x = x.reshape(x.shape[0], -1)
        device_type = x.device.type if x.device.type in ("cpu", "cuda") else "cpu"
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            mu, logvar = self.model.encode(x)
            mu = mu.float()
            if logvar is None:  # the autoencoder: its code is μ itself
                z = mu
            else:
                logvar = logvar.float()
                z = sample_posterior(mu, logvar, eps=eps if eps is not None else draw_noise(mu, self.generator))
            logits = self.model.decode_logits(z)
        terms = elbo_loss(logits, x, mu, logvar, self.beta)
        self.model.zero_grad(set_to_none=True)
        terms.total.backward()
        return terms.detach()
