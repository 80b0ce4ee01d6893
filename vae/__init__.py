"""VAE Latent Explorer: the lecture's VAE on MNIST, its training, checkpoints and latent operations."""

from vae.checkpoint import CheckpointError, load_checkpoint
from vae.config import ModelConfig, TrainConfig
from vae.model import VAE, Autoencoder, LatentModel, build_model

__all__ = [
    "VAE",
    "Autoencoder",
    "CheckpointError",
    "LatentModel",
    "ModelConfig",
    "TrainConfig",
    "build_model",
    "load_checkpoint",
]
