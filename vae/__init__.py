"""VAE Latent Explorer: the lecture's VAE on MNIST, its training, checkpoints and latent operations.

The names below load on first use (PEP 562), so `python -m vae --help` and the CLI's argument errors
answer without importing torch (about 1.5 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vae.checkpoint import CheckpointError, load_checkpoint, read_meta
    from vae.config import ConfigError, ModelConfig, TrainConfig
    from vae.meta import CheckpointMeta
    from vae.model import VAE, Autoencoder, LatentModel, build_model

_HOMES = {
    "VAE": "vae.model",
    "Autoencoder": "vae.model",
    "LatentModel": "vae.model",
    "build_model": "vae.model",
    "CheckpointError": "vae.checkpoint",
    "load_checkpoint": "vae.checkpoint",
    "read_meta": "vae.checkpoint",
    "CheckpointMeta": "vae.meta",
    "ConfigError": "vae.config",
    "ModelConfig": "vae.config",
    "TrainConfig": "vae.config",
}

__all__ = [
    "VAE",
    "Autoencoder",
    "CheckpointError",
    "CheckpointMeta",
    "ConfigError",
    "LatentModel",
    "ModelConfig",
    "TrainConfig",
    "build_model",
    "load_checkpoint",
    "read_meta",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'vae' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # the next lookup is a plain one
    return value
