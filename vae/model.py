"""The lecture's VAE and a plain autoencoder with the same layers.

Encoder  Linear(784, h) → ReLU → Linear(h, 2d)   (VAE: split into μ and log σ²)
Decoder  Linear(d, h)   → ReLU → Linear(h, 784)  → sigmoid
"""

from __future__ import annotations

import torch
from torch import nn

from vae.config import ModelConfig
from vae.kinds import AE_KIND, VAE_KIND, kind_of
from vae.mnist_shape import IMAGE_SIDE

IMAGE_SHAPE = (1, IMAGE_SIDE, IMAGE_SIDE)


def sample_posterior(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    generator: torch.Generator | None = None,
    eps: torch.Tensor | None = None,
) -> torch.Tensor:
    """z = μ + ε·exp(½·log σ²), ε ~ N(0, I): log-variance lets the encoder output any real number."""
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + eps * torch.exp(0.5 * logvar)


class LatentModel(nn.Module):
    """Shared layout; subclasses say how the encoder's output becomes a code."""

    kind: str = ""
    encoder_outputs_per_dim: int = 1

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d, h = config.latent_dim, config.hidden_dim
        self.encoder = nn.Sequential(
            nn.Linear(config.input_dim, h), nn.ReLU(), nn.Linear(h, d * self.encoder_outputs_per_dim)
        )
        self.decoder = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, config.input_dim))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def _flatten(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], self.config.input_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor | None) -> torch.Tensor:
        return mu

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid decoder output [N, 784]: the loss works on these for numerical stability."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities [N, 1, 28, 28]."""
        return torch.sigmoid(self.decode_logits(z)).reshape(z.shape[0], *IMAGE_SHAPE)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        mu, logvar = self.encode(x)
        return self.decode_logits(self.reparameterize(mu, logvar)), mu, logvar

    @torch.no_grad()
    def start_at_mean_image(self, images: torch.Tensor, floor: float = 1e-3) -> None:
        """Set the decoder's output bias to the logit of the mean training pixel, clipped to [floor, 1 − floor].

        Common practice in VAE code (IWAE, REBAR): the untrained decoder then already draws the average
        digit, so the first steps are not spent learning that the border is black. After pytorch/examples'
        10 epochs the test loss is ~0.5 nats lower (bench/train_speed.py, docs/performance.md).
        """
        mean = images.reshape(images.shape[0], -1).float().mean(0).clamp(floor, 1.0 - floor)
        self.decoder[-1].bias.copy_(torch.logit(mean))


class VAE(LatentModel):
    """Variational autoencoder: samples z while training, returns μ in eval (no noise)."""

    kind = VAE_KIND.name
    encoder_outputs_per_dim = 2

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(self._flatten(x)).chunk(2, dim=1)
        return mu, logvar

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor | None) -> torch.Tensor:
        if not self.training or logvar is None:
            return mu
        return sample_posterior(mu, logvar)


class Autoencoder(LatentModel):
    """Plain deterministic autoencoder: no sampling, no KL, logvar is None."""

    kind = AE_KIND.name

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.encoder(self._flatten(x)), None


def build_model(config: ModelConfig) -> LatentModel:
    return (VAE if kind_of(config).has_posterior else Autoencoder)(config)
