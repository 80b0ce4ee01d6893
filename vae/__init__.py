"""VAE Latent Explorer: the lecture's VAE on MNIST, its training, checkpoints and latent operations."""

from vae.checkpoint import CheckpointError, load_checkpoint, read_meta
from vae.config import ConfigError, ModelConfig, TrainConfig
from vae.meta import CheckpointMeta
from vae.model import VAE, Autoencoder, LatentModel, build_model

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
