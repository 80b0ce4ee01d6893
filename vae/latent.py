"""Operations in latent space: encoding a data set, interpolation, prior samples, dimension usage."""

from __future__ import annotations

import torch

from vae.model import LatentModel


@torch.no_grad()
def encode_all(
    model: LatentModel, images: torch.Tensor, batch_size: int = 2000
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """μ and log σ² (None for the autoencoder) of every image, in eval mode, on the model's device."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    mus, logvars = [], []
    for start in range(0, images.shape[0], batch_size):
        mu, logvar = model.encode(images[start : start + batch_size].to(device))
        mus.append(mu)
        if logvar is not None:
            logvars.append(logvar)
    model.train(was_training)
    return torch.cat(mus), (torch.cat(logvars) if logvars else None)
