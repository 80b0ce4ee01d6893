"""What every page gets from the sidebar's picker: the model, its map (or why there is none) and the listing."""

from __future__ import annotations

from dataclasses import dataclass

from vae import LatentModel
from vae.atlas import Atlas
from vae.catalog import CheckpointListing, CheckpointSummary
from vae.kinds import kind_of


@dataclass(frozen=True)
class Context:
    """What every view gets: the current model, its map (or why there is none) and the listing."""

    model: LatentModel
    summary: CheckpointSummary
    listing: CheckpointListing
    atlas: Atlas | None
    atlas_error: str | None
    key: str  # namespaces this model's widgets (other models have other slider ranges)
    extent: float  # slider range ±extent (covers every test code and prior samples up to T = 2)
    name: str  # what the picker calls it (a file name, or a session model's name)

    @property
    def has_posterior(self) -> bool:
        """A VAE's pages speak of μ, σ, the prior and KL; a kind without a posterior's, of codes."""
        return kind_of(self.summary).has_posterior
