"""The checkpoint catalogue: which checkpoints a folder holds and what their metadata says about them.

Read from metadata alone (no weights loaded), so listing a folder stays cheap. How a summary is worded
on a screen is the app's business (explorer/words/catalog.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from vae.checkpoint import DEFAULT_CHECKPOINT_NAME, CheckpointError, read_meta
from vae.kinds import AE_KIND, KINDS, VAE_KIND, kind_of
from vae.meta import CheckpointMeta
from vae.model import LatentModel

ATLAS_SUFFIX = ".atlas.safetensors"


@dataclass(frozen=True)
class CheckpointSummary:
    """The facts about one checkpoint that choosing between checkpoints needs."""

    path: Path
    kind: str  # a name in vae.kinds.KINDS
    latent_dim: int
    beta: float | None
    epochs: int | None
    test_loss: float | None  # nats per test image
    test_loss_label: str  # what test_loss measures: "−ELBO" (a VAE, whatever its β) or "reconstruction"

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class CheckpointListing:
    checkpoints: list[CheckpointSummary]
    skipped: list[str]  # one message per file in the folder that could not be read


def summarize_meta(meta: CheckpointMeta, path: str | Path) -> CheckpointSummary:
    """The summary; test loss = the exported evaluation's −ELBO, else the last epoch's test total."""
    kind = meta.kind
    beta = meta.train.beta if meta.train is not None else None
    loss: float | None = None
    evaluation, last = meta.evaluation, meta.last_epoch
    if evaluation is not None and evaluation.neg_elbo is not None:
        loss = evaluation.neg_elbo
    elif last is not None:
        # recon + KL, the −ELBO, whatever β weighted the KL in training (its objective recon + β·KL would put
        # a β = 0.1 model ahead of better ones); the autoencoder's total is its reconstruction
        loss = last.test.recon + last.test.kl
    elif evaluation is not None:  # an exported autoencoder has no −ELBO
        loss = evaluation.recon
    epochs = meta.epoch if meta.epoch is not None else (meta.train.epochs if meta.train is not None else None)
    return CheckpointSummary(
        path=Path(path),
        kind=kind,
        latent_dim=meta.model.latent_dim,
        beta=beta,
        epochs=epochs,
        test_loss=loss,
        test_loss_label=kind_of(kind).loss_label,
    )


def summarize_model(model: LatentModel) -> CheckpointSummary:
    return summarize_meta(model.meta, model.checkpoint_path)


def _listing_order(summary: CheckpointSummary) -> tuple:
    # The shipped default first, then the kinds in the registry's order, small d first.
    kind_order = list(KINDS).index(summary.kind)
    return (summary.name != DEFAULT_CHECKPOINT_NAME, kind_order, summary.latent_dim, summary.name)


def list_checkpoints(folder: str | Path) -> CheckpointListing:
    """The checkpoints in a folder (atlases, hidden and temporary files left out), default first."""
    folder = Path(folder)
    found: list[CheckpointSummary] = []
    skipped: list[str] = []
    if not folder.is_dir():
        return CheckpointListing([], [])
    for path in sorted(folder.glob("*.safetensors")):
        if path.name.startswith(".") or path.name.endswith(ATLAS_SUFFIX):
            continue
        summary, problem = _summary_at(file_stamp(path))
        if summary is not None:
            found.append(summary)
        else:
            skipped.append(problem)
    return CheckpointListing(sorted(found, key=_listing_order), skipped)


@lru_cache(maxsize=256)
def _summary_at(stamp: tuple[str, int, int]) -> tuple[CheckpointSummary | None, str]:
    # Keyed by (path, mtime, size): the app lists the folder on every rerun, and parsing a header costs
    # more than the rest of the page around a view; a replaced file has a new stamp.
    path = Path(stamp[0])
    try:
        return summarize_meta(read_meta(path), path), ""
    except CheckpointError as exc:
        return None, str(exc)


def companion_checkpoint(
    checkpoints: Sequence[CheckpointSummary], kind: str, latent_dim: int | None = None, prefer_dim: int | None = None
) -> CheckpointSummary | None:
    """A checkpoint of `kind` (and `latent_dim` if given), preferring `prefer_dim`, else the listing's first."""
    matches = [c for c in checkpoints if c.kind == kind and (latent_dim is None or c.latent_dim == latent_dim)]
    preferred = [c for c in matches if c.latent_dim == prefer_dim]
    return (preferred or matches or [None])[0]


def autoencoder_for_comparison(
    checkpoints: Sequence[CheckpointSummary], current: CheckpointSummary
) -> CheckpointSummary | None:
    """The plain autoencoder to compare a VAE with (None when the current model is not a VAE)."""
    if not kind_of(current).has_posterior:
        return None
    return companion_checkpoint(checkpoints, AE_KIND.name, prefer_dim=current.latent_dim)


def plane_checkpoint(checkpoints: Sequence[CheckpointSummary]) -> CheckpointSummary | None:
    """A 2-D VAE, whose latent space can be drawn as a plane."""
    return companion_checkpoint(checkpoints, VAE_KIND.name, latent_dim=2)


def file_stamp(path: str | Path) -> tuple[str, int, int]:
    """(path, mtime, size): a cache key that changes when the file is replaced (e.g. retrained)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return str(path), 0, 0
    return str(path), stat.st_mtime_ns, stat.st_size


def state_key(path: str | Path) -> str:
    """A short stable id for one checkpoint file (e.g. to namespace per-model state)."""
    return hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]
