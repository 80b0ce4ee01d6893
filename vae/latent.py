"""Operations in latent space: encoding a data set, interpolation, prior samples, dimension usage."""

from __future__ import annotations

import torch

from vae.images import as_uint8
from vae.model import LatentModel


@torch.no_grad()
def encode_all(
    model: LatentModel, images: torch.Tensor, batch_size: int = 2000
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """μ and log σ² (None for the autoencoder) of every image, in eval mode, on the model's device."""
    was_training = model.training
    if was_training:  # only a model being trained is switched (and back): a shared eval model is never touched
        model.eval()
    device = next(model.parameters()).device
    mus, logvars = [], []
    for start in range(0, images.shape[0], batch_size):
        mu, logvar = model.encode(images[start : start + batch_size].to(device))
        mus.append(mu)
        if logvar is not None:
            logvars.append(logvar)
    if was_training:
        model.train()
    return torch.cat(mus), (torch.cat(logvars) if logvars else None)


def interpolate(z0: torch.Tensor, z1: torch.Tensor, frames: int, method: str = "linear") -> torch.Tensor:
    """`frames` codes strictly between z0 and z1 (the ends are the two digits' own reconstructions).

    z0, z1: [d] or a batch of pairs [N, d]; the result is [frames, d] or [N, frames, d], in z0's dtype.
    linear: (1−t)·z0 + t·z1. spherical (slerp): the direction turns along the great circle from z0's to
    z1's while the norm goes linearly from |z0| to |z1|, so the in-between codes keep a norm typical of
    the prior instead of cutting through its low-density centre. Computed in float64 from the angle
    atan2(|sin|, cos), which stays exact near π where arccos of a rounded cosine does not.
    """
    if frames < 1:
        raise ValueError("the morph needs at least one frame")
    if method not in ("linear", "spherical"):
        raise ValueError(f"method must be 'linear' or 'spherical', not {method!r}")
    if z0.shape != z1.shape or z0.dim() not in (1, 2):
        raise ValueError(f"codes must both be [d] or [N, d], not {tuple(z0.shape)} and {tuple(z1.shape)}")
    a, b = z0.double().reshape(-1, z0.shape[-1]), z1.double().reshape(-1, z1.shape[-1])
    t = torch.linspace(0.0, 1.0, frames + 2, dtype=torch.float64, device=z0.device)[1:-1, None]  # [F, 1]
    linear = (1 - t) * a[:, None] + t * b[:, None]  # [N, F, d]
    if method == "linear":
        return linear.to(z0.dtype).reshape(*z0.shape[:-1], frames, z0.shape[-1])
    r0, r1 = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    u0, u1 = a / r0.clamp_min(1e-300), b / r1.clamp_min(1e-300)
    cos = (u0 * u1).sum(1, keepdim=True)
    across = u1 - cos * u0  # the part of z1's direction orthogonal to z0's: |across| = sin of the angle
    sin = across.norm(dim=1, keepdim=True)
    omega = torch.atan2(sin, cos)  # [N, 1] in [0, π]
    # Exactly opposite codes span no plane: turn towards a fixed axis, the one least aligned with z0.
    axis = torch.nn.functional.one_hot(u0.abs().argmin(1), u0.shape[1]).to(u0)
    fallback = axis - (axis * u0).sum(1, keepdim=True) * u0
    w = torch.where(sin > 1e-150, across / sin.clamp_min(1e-300), fallback / fallback.norm(dim=1, keepdim=True))
    angle = t[None] * omega[:, None]  # [N, F, 1]
    direction = torch.cos(angle) * u0[:, None] + torch.sin(angle) * w[:, None]
    arc = ((1 - t) * r0[:, None] + t * r1[:, None]) * direction
    # A zero code has no direction, and a 1-D code no plane to turn in: there the arc is the line.
    flat = ((r0 == 0) | (r1 == 0)).reshape(-1, 1, 1) | (u0.shape[1] < 2)
    out = torch.where(flat, linear, arc)
    return out.to(z0.dtype).reshape(*z0.shape[:-1], frames, z0.shape[-1])


def sample_prior(count: int, latent_dim: int, temperature: float = 1.0, seed: int = 0) -> torch.Tensor:
    """z ~ N(0, temperature²·I), reproducible from the seed alone."""
    generator = torch.Generator().manual_seed(int(seed))
    return temperature * torch.randn(count, latent_dim, generator=generator)


@torch.no_grad()
def decode_to_uint8(model: LatentModel, z: torch.Tensor) -> torch.Tensor:
    """Decoded digits as uint8 [N, 28, 28] on the CPU, ready to show."""
    device = next(model.parameters()).device
    pixels = model.decode(z.to(device, torch.float32).reshape(-1, model.latent_dim))
    return torch.from_numpy(as_uint8(pixels.cpu().numpy()))


def usage_order(dim_usage: torch.Tensor | list[float]) -> list[int]:
    """Dimensions by how much the model uses them, most first: ignored ones end up last."""
    usage = torch.as_tensor(dim_usage, dtype=torch.float32)
    return torch.argsort(usage, descending=True, stable=True).tolist()


def nearest(query: torch.Tensor, bank: torch.Tensor, k: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and Euclidean distances of the k codes in `bank` nearest each row of `query`."""
    # cdist's default switches to a matrix-product shortcut above 25 rows, whose float32 rounding puts a
    # code ~1e-3 away from itself; the direct form is exact and cheap at these sizes.
    distances = torch.cdist(
        query.reshape(-1, bank.shape[1]).float(), bank.float(), compute_mode="donot_use_mm_for_euclid_dist"
    )
    values, indices = distances.topk(min(k, bank.shape[0]), largest=False)
    return indices, values


def place_on_map(query: torch.Tensor, bank: torch.Tensor, coords: torch.Tensor, k: int = 10) -> torch.Tensor:
    """Map position of new codes: the inverse-distance-weighted mean of their nearest test codes' places."""
    indices, distances = nearest(query, bank, k)
    weights = 1.0 / distances.clamp_min(1e-6)
    weights = weights / weights.sum(1, keepdim=True)
    return (weights[..., None] * coords.float()[indices]).sum(1)


def latent_grid(extent: float = 3.0, steps: int = 15) -> torch.Tensor:
    """A steps×steps grid over [−extent, extent]² (row 0 at the top: largest z1), for a 2-D model."""
    axis = torch.linspace(-extent, extent, steps)
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return torch.stack((z1.reshape(-1), z2.reshape(-1)), dim=1)
