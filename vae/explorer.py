"""Everything the explorer app computes, as plain typed functions (no Streamlit, no Plotly here).

The app only lays out widgets and calls these; each is unit-tested on real models. Arrays that
come from a shared cache (the atlas, the test set) are only read here, never written.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from vae.checkpoint import DEFAULT_CHECKPOINT_NAME, CheckpointError, read_metadata
from vae.images import as_uint8, braille_many, gif_bytes, png_bytes, tile
from vae.latent import (
    decode_to_uint8,
    encode_all,
    interpolate,
    latent_grid,
    nearest,
    place_on_map,
    sample_prior,
    usage_order,
)
from vae.losses import kl_to_prior, reconstruction_nats
from vae.model import LatentModel

PRIOR_EXTENT = 3.0  # sliders span ±3 prior standard deviations
SLIDER_STEP = 0.05
UNUSED_NATS = 0.05  # below this mean KL a coordinate carries (almost) no information
ATLAS_SUFFIX = ".atlas.safetensors"


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class CheckpointSummary:
    """What the model picker shows about one checkpoint, read from its metadata alone."""

    path: Path
    kind: str  # "vae" or "ae"
    latent_dim: int
    beta: float | None
    epochs: int | None
    test_loss: float | None  # nats per test image
    test_loss_label: str  # what test_loss measures

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def title(self) -> str:
        return f"{'VAE' if self.kind == 'vae' else 'Autoencoder'}, d = {self.latent_dim}"

    def describe(self) -> str:
        """One line for the picker: kind, d, β, epochs and test loss."""
        parts = [f"{self.kind.upper()} · d={self.latent_dim}"]
        if self.kind == "vae" and self.beta is not None:
            parts.append(f"β={self.beta:g}")
        if self.epochs is not None:
            parts.append(f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}")
        if self.test_loss is not None:
            parts.append(f"test {self.test_loss_label} {self.test_loss:.1f} nats")
        return " · ".join(parts)


@dataclass(frozen=True)
class CheckpointListing:
    checkpoints: list[CheckpointSummary]
    skipped: list[str]  # one message per file in the folder that could not be read


def summarize_metadata(meta: dict[str, Any], path: str | Path) -> CheckpointSummary:
    """The picker's summary; test loss = the exported evaluation's −ELBO, else the last epoch's test total."""
    model = meta.get("model") or {}
    train = meta.get("train") or {}
    kind = str(model.get("kind", meta.get("kind", "vae")))
    evaluation = meta.get("evaluation") or {}
    test_metrics = (meta.get("metrics") or {}).get("test") or {}
    loss: float | None = None
    label = "−ELBO" if kind == "vae" else "reconstruction"
    beta = float(train["beta"]) if "beta" in train else None
    if "neg_elbo" in evaluation:
        loss = float(evaluation["neg_elbo"])
    elif "total" in test_metrics:
        loss = float(test_metrics["total"])
        if kind == "vae" and beta not in (None, 1.0):  # recon + β·KL is the −ELBO only when β = 1
            label = "loss"
    elif "recon" in evaluation:  # an exported autoencoder has no −ELBO
        loss = float(evaluation["recon"])
    epochs = meta.get("epoch", train.get("epochs"))
    return CheckpointSummary(
        path=Path(path),
        kind=kind,
        latent_dim=int(model.get("latent_dim", 0)),
        beta=beta,
        epochs=int(epochs) if epochs is not None else None,
        test_loss=loss,
        test_loss_label=label,
    )


def summarize_model(model: LatentModel) -> CheckpointSummary:
    return summarize_metadata(model.metadata, model.checkpoint_path)


def _listing_order(summary: CheckpointSummary) -> tuple:
    # The shipped default first, then VAEs before autoencoders, small d first.
    return (summary.name != DEFAULT_CHECKPOINT_NAME, summary.kind != "vae", summary.latent_dim, summary.name)


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
        try:
            found.append(summarize_metadata(read_metadata(path), path))
        except CheckpointError as exc:
            skipped.append(str(exc))
    return CheckpointListing(sorted(found, key=_listing_order), skipped)


def model_facts(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """The "about this model" table: architecture, training recipe and test numbers (nats per image)."""
    model = meta.get("model") or {}
    train = meta.get("train") or {}
    evaluation = meta.get("evaluation") or {}
    test = (meta.get("metrics") or {}).get("test") or {}
    kind = model.get("kind", "vae")
    facts = [
        ("model", "variational autoencoder" if kind == "vae" else "plain autoencoder (no KL, no sampling)"),
        ("layers", f"{model.get('input_dim', 784)} → {model.get('hidden_dim', '?')} → {model.get('latent_dim', '?')}"),
    ]
    if kind == "vae" and "beta" in train:
        facts.append(("β (weight of the KL)", f"{float(train['beta']):g}"))
    if "epoch" in meta or "epochs" in train:
        facts.append(("epochs", str(meta.get("epoch", train.get("epochs")))))
    if "batch_size" in train and "lr" in train:
        schedule = train.get("lr_schedule", "constant")
        facts.append(("batch · learning rate", f"{train['batch_size']} · {float(train['lr']):g} ({schedule})"))
    source = evaluation or test
    if "recon" in source:
        facts.append(("test reconstruction", f"{float(source['recon']):.1f} nats"))
    if kind == "vae" and "kl" in source:
        facts.append(("test KL", f"{float(source['kl']):.1f} nats"))
    if "neg_elbo" in evaluation:
        facts.append(("test −ELBO", f"{float(evaluation['neg_elbo']):.1f} nats"))
    if "neg_iwae_k" in evaluation:
        facts.append(
            (f"−log p(x) bound (IWAE, k={evaluation.get('k')})", f"{float(evaluation['neg_iwae_k']):.1f} nats")
        )
    return facts


def typical_terms(meta: dict[str, Any]) -> tuple[float, float | None] | None:
    """The average test digit's reconstruction and KL (nats), to compare one digit's numbers with."""
    source = meta.get("evaluation") or (meta.get("metrics") or {}).get("test") or {}
    if "recon" not in source:
        return None
    kl = source.get("kl") if (meta.get("model") or {}).get("kind", "vae") == "vae" else None
    return float(source["recon"]), (float(kl) if kl is not None else None)


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
    """The plain autoencoder whose morph is shown beside a VAE's (None when the current model is not a VAE)."""
    if current.kind != "vae":
        return None
    return companion_checkpoint(checkpoints, "ae", prefer_dim=current.latent_dim)


def plane_checkpoint(checkpoints: Sequence[CheckpointSummary]) -> CheckpointSummary | None:
    """A 2-D VAE to offer when the current model's latent space cannot be drawn as a plane."""
    return companion_checkpoint(checkpoints, "vae", latent_dim=2)


def file_stamp(path: str | Path) -> tuple[str, int, int]:
    """(path, mtime, size): a cache key that changes when the file is replaced (e.g. retrained)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return str(path), 0, 0
    return str(path), stat.st_mtime_ns, stat.st_size


def state_key(path: str | Path) -> str:
    """A short id for one checkpoint, to namespace its widgets (slider ranges differ between models)."""
    return hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]


# ---------------------------------------------------------------- codes and sliders


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


def decode_code(model: LatentModel, z: Sequence[float] | np.ndarray | torch.Tensor) -> np.ndarray:
    """One code → its decoded digit, uint8 [28, 28]."""
    return decode_to_uint8(model, torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(1, -1))[0].numpy()


def encode_means(model: LatentModel, images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """μ of each image [N, 784] in [0, 1] (the autoencoder: its code); eval mode, no gradients."""
    return encode_all(model, torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(-1, 784))[0].cpu()


def fresh_seed() -> int:
    """A new random seed for "reroll" / "randomise", small enough to read and type back."""
    return secrets.randbelow(1_000_000)


def random_code(latent_dim: int, seed: int) -> list[float]:
    return sample_prior(1, latent_dim, 1.0, seed)[0].tolist()


# ---------------------------------------------------------------- prior samples


@dataclass(frozen=True)
class PriorSamples:
    codes: torch.Tensor  # [count, d]
    images: np.ndarray  # uint8 [count, 28, 28]


def prior_samples(model: LatentModel, count: int, temperature: float, seed: int) -> PriorSamples:
    """Digits decoded from z ~ N(0, T²·I); the same seed always gives the same digits."""
    if not 1 <= count <= 256:
        raise ValueError("the number of samples must be between 1 and 256")
    codes = sample_prior(count, model.latent_dim, temperature, seed)
    return PriorSamples(codes, decode_to_uint8(model, codes).numpy())


# ---------------------------------------------------------------- morphs


@dataclass(frozen=True)
class MorphRow:
    """original A, reconstruction A, k in-between frames, reconstruction B, original B."""

    method: str
    images: np.ndarray  # uint8 [k + 4, 28, 28]
    captions: list[str]

    @property
    def frames(self) -> np.ndarray:
        return self.images[2:-2]

    def gif(self) -> bytes:
        """The decoded path (reconstructions and frames), looping back and forth."""
        return gif_bytes(self.images[1:-1])

    def png(self, scale: int = 3) -> bytes:
        """The whole row as one picture strip."""
        return png_bytes(tile(self.images, columns=len(self.images)), scale=scale)


def morph_captions(frames: int) -> list[str]:
    """Labels for a morph row: the ends, then each frame's t (fraction of the way from A to B)."""
    ts = [f"t={(i + 1) / (frames + 1):.2f}" for i in range(frames)]
    return ["A", "recon A", *ts, "recon B", "B"]


def morph_row(
    model: LatentModel, image_a: torch.Tensor | np.ndarray, image_b: torch.Tensor | np.ndarray, frames: int, method: str
) -> MorphRow:
    """Encode both digits (μ), walk `frames` steps between the codes, decode everything."""
    pair = np.stack(
        [np.asarray(image_a, dtype=np.float32).reshape(784), np.asarray(image_b, dtype=np.float32).reshape(784)]
    )
    mu = encode_means(model, pair)
    originals = as_uint8(pair)
    path = torch.cat([mu[:1], interpolate(mu[0], mu[1], frames, method), mu[1:]])
    decoded = decode_to_uint8(model, path).numpy()
    images = np.concatenate([originals[:1], decoded, originals[1:]])
    return MorphRow(method, images, morph_captions(frames))


# ---------------------------------------------------------------- maps and selections


def digit_examples(labels: np.ndarray | torch.Tensor) -> list[int]:
    """The first test index of each digit 0–9 (a fixed gallery to pick morph ends from)."""
    labels = np.asarray(labels)
    return [int(np.flatnonzero(labels == digit)[0]) for digit in range(10) if (labels == digit).any()]


def map_hover_texts(images: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> list[str]:
    """Hover text of every test digit: its index, label and a braille picture of it."""
    pictures = braille_many(np.asarray(images))
    labels = np.asarray(labels)
    return [f"#{i} · digit {int(label)}<br>{art}" for i, (label, art) in enumerate(zip(labels, pictures, strict=True))]


def subset_rows(total: int, count: int, seed: int = 0) -> np.ndarray:
    """A reproducible random subset of row ids, sorted (for plots that cannot take every point)."""
    count = max(0, min(int(count), total))
    return np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False))


def selection_grid(
    images: torch.Tensor | np.ndarray, rows: Sequence[int], limit: int = 100, columns: int = 20
) -> np.ndarray | None:
    """The selected test digits as one tiled uint8 image (at most `limit`), None when nothing is selected."""
    rows = [int(r) for r in rows[:limit]]
    if not rows:
        return None
    return tile(as_uint8(np.asarray(images)[rows]), columns=columns)


def plane_extent(mu: np.ndarray, coverage: float = 99.5) -> float:
    """Half-width of the 2-D plane to draw: at least the prior's ±3σ, wide enough for `coverage`% of
    the test means on both axes (the aggregate posterior can spread past ±3), rounded up to 0.5."""
    reach = float(np.percentile(np.abs(np.asarray(mu, dtype=np.float32)), coverage))
    return max(PRIOR_EXTENT, float(np.ceil(reach * 2) / 2))


def manifold_image(model: LatentModel, extent: float = PRIOR_EXTENT, steps: int = 15) -> np.ndarray:
    """A 2-D model's decoded plane: steps×steps digits over [−extent, extent]², z₂ growing upwards."""
    if model.latent_dim != 2:
        raise ValueError("the decoded plane needs a model with a 2-D latent space")
    return tile(decode_to_uint8(model, latent_grid(extent, steps)).numpy(), columns=steps, pad=0)


# ---------------------------------------------------------------- your own digit


@dataclass(frozen=True)
class DigitAnalysis:
    mu: np.ndarray  # [d]
    sigma: np.ndarray | None  # [d]; None for the autoencoder
    reconstruction: np.ndarray  # uint8 [28, 28], decoded from μ
    recon_nats: float  # binary cross-entropy of the reconstruction, summed over pixels
    kl_nats: float | None  # KL(q(z|x) ‖ N(0, I)); None for the autoencoder
    map_xy: tuple[float, float] | None  # its place on the map, None without an atlas
    neighbours: np.ndarray  # test row ids nearest in μ, closest first
    distances: np.ndarray


@torch.no_grad()
def analyse_digit(
    model: LatentModel,
    image: torch.Tensor,
    bank_mu: np.ndarray | None = None,
    bank_coords: np.ndarray | None = None,
    k: int = 8,
) -> DigitAnalysis:
    """Encode one MNIST-style image [1, 1, 28, 28]: code, reconstruction, its two loss terms, neighbours."""
    x = image.reshape(1, 784).float().to(next(model.parameters()).device)
    mu, logvar = model.encode(x)
    logits = model.decode_logits(mu)
    recon = as_uint8(torch.sigmoid(logits).cpu().numpy())[0]
    neighbours = distances = np.zeros(0, dtype=np.int64)
    map_xy = None
    if bank_mu is not None:
        bank = torch.tensor(bank_mu, dtype=torch.float32)  # a copy: the cached atlas stays untouched
        index, dist = nearest(mu.cpu(), bank, k)
        neighbours, distances = index[0].numpy(), dist[0].numpy()
        if bank_coords is not None:
            xy = place_on_map(mu.cpu(), bank, torch.tensor(bank_coords, dtype=torch.float32), k)[0]
            map_xy = (float(xy[0]), float(xy[1]))
    return DigitAnalysis(
        mu=mu[0].cpu().numpy(),
        sigma=None if logvar is None else torch.exp(0.5 * logvar[0]).cpu().numpy(),
        reconstruction=recon,
        recon_nats=float(reconstruction_nats(logits, x)),
        kl_nats=None if logvar is None else float(kl_to_prior(mu, logvar)),
        map_xy=map_xy,
        neighbours=neighbours,
        distances=distances,
    )


def preview_stages(stages: dict[str, Image.Image], size: int = 112, background: int = 40) -> dict[str, Image.Image]:
    """The preprocessing stages as equal size×size tiles: big photos shrunk (smooth), tiny crops enlarged
    (crisp), each centred on a neutral square so the row of previews lines up."""
    previews = {}
    for caption, image in stages.items():
        scale = size / max(image.width, image.height)
        new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST
        tile_image = Image.new("L", (size, size), background)
        tile_image.paste(
            image.convert("L").resize(new_size, resample), ((size - new_size[0]) // 2, (size - new_size[1]) // 2)
        )
        previews[caption] = tile_image
    return previews


def canvas_has_ink(json_data: dict[str, Any] | None) -> bool:
    """Whether anything was drawn on the canvas (an untouched canvas is not an error, just empty)."""
    return bool(json_data and json_data.get("objects"))


# ---------------------------------------------------------------- errors


def friendly_error(exc: BaseException) -> str:
    """A message for a person, never a traceback: known problems say what they are, others stay generic."""
    from vae.atlas import AtlasError
    from vae.data import DataError
    from vae.preprocess import InvalidImageError

    if isinstance(exc, CheckpointError | AtlasError | InvalidImageError | DataError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "This view ran out of memory. Try fewer samples or frames."
    return (
        f"Something went wrong in this view ({type(exc).__name__}). The rest of the app still works: "
        "try other settings, another view or another model."
    )
