"""The latent sliders' range, values and labels (slider state keys live in explorer/state.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from vae.codes import PRIOR_EXTENT, plane_extent
from vae.latent import usage_order

SLIDER_STEP = 0.05
UNUSED_NATS = 0.05  # below this mean KL a coordinate carries (almost) no information


def slider_extent(kind: str, mu: np.ndarray | None = None) -> float:
    """±3 prior std for a VAE; an autoencoder has no prior, so its range comes from its test codes."""
    if kind == "vae" or mu is None or mu.size == 0:
        return PRIOR_EXTENT
    return plane_extent(mu)


def to_slider_values(
    z: Sequence[float] | np.ndarray | torch.Tensor, extent: float, step: float = SLIDER_STEP
) -> list[float]:
    """A code as slider values: clipped to the range (a slider refuses values outside it), on the step grid."""
    values = np.asarray(torch.as_tensor(z, dtype=torch.float32).reshape(-1))
    snapped = np.round(np.clip(values, -extent, extent) / step) * step
    return [round(float(v), 4) for v in snapped]


def dimension_order(dim_usage: np.ndarray | None, latent_dim: int) -> list[int]:
    """Dimensions most used first (ignored ones last); index order when the usage is unknown (no atlas)."""
    return list(range(latent_dim)) if dim_usage is None else usage_order(np.asarray(dim_usage, dtype=np.float32))


def slider_labels(dim_usage: np.ndarray | None, usage_label: str, latent_dim: int) -> list[tuple[int, str]]:
    """(dimension, label) in usage order, most used first; labels carry the usage, e.g. "z7 · 2.31 nats"."""
    if dim_usage is None:
        return [(i, f"z{i}") for i in range(latent_dim)]
    usage = np.asarray(dim_usage, dtype=np.float32)
    is_kl = "KL" in usage_label
    labels = []
    for i in dimension_order(usage, latent_dim):
        if is_kl:
            unused = " (unused)" if usage[i] < UNUSED_NATS else ""
            labels.append((i, f"z{i} · {usage[i]:.2f} nats{unused}"))
        else:
            labels.append((i, f"z{i} · std {usage[i]:.2f}"))
    return labels


def unused_dimensions(dim_usage: np.ndarray, usage_label: str) -> int:
    """How many coordinates the VAE ignores (mean KL below UNUSED_NATS); 0 for an autoencoder."""
    if "KL" not in usage_label:
        return 0
    return int((np.asarray(dim_usage) < UNUSED_NATS).sum())
