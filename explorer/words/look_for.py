"""The one line at the top of each view: what to notice there. Each page holds its own (LOOK_FOR)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LookFor:
    general: str
    # Where the general line would mislead for the model in use: an autoencoder, a VAE with a 2-D code,
    # or a model uploaded or trained in this session (it has its curves, not the epoch slider).
    autoencoder: str = ""
    two_d: str = ""
    session_model: str = ""

    def line(self, has_posterior: bool, latent_dim: int, session_model: bool = False) -> str:
        """The line in the words that fit the model being explored."""
        if session_model and self.session_model:
            return self.session_model
        special = self.autoencoder if not has_posterior else self.two_d if latent_dim == 2 else ""
        return special or self.general
