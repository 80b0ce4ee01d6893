"""The model kinds, named once: what each kind is, for the config, the CLI, the trainer, the catalog and the app.

A kind with a posterior (the VAE) encodes a digit to N(μ, σ²): its loss has a KL term weighted by β, it
samples codes while training and its test loss is the −ELBO. One without (the plain autoencoder) encodes
a digit to one code, and its loss is the reconstruction alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelKind:
    name: str  # as written in configs and checkpoints
    label: str  # a short name for a screen
    description: str  # what it is, in a few words
    has_posterior: bool  # encodes to N(μ, σ²) (a KL term, sampling, β) rather than to one code
    loss_label: str  # what its test loss measures


VAE_KIND = ModelKind("vae", "VAE", "variational autoencoder", has_posterior=True, loss_label="−ELBO")
AE_KIND = ModelKind(
    "ae", "autoencoder", "plain autoencoder (no KL, no sampling)", has_posterior=False, loss_label="reconstruction"
)
# In the order lists show them: the lecture's VAE first.
KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (VAE_KIND, AE_KIND)}


def kind_of(thing: Any) -> ModelKind:
    """The kind of a name, or of anything with a `kind` name: a ModelConfig, CheckpointMeta,
    CheckpointSummary or LatentModel. ValueError for a name no kind has."""
    name = thing if isinstance(thing, str) else thing.kind
    if name not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, not {name!r}")
    return KINDS[name]
