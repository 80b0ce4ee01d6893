"""The latent sliders' order and labels (their range: state/code_range.py; their code: state/session.py)."""

from __future__ import annotations

import numpy as np

from vae.atlas import UNUSED_NATS
from vae.latent import usage_order


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
