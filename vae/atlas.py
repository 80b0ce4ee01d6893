"""The atlas: everything the app's maps need, computed once per checkpoint and stored beside it.

`<checkpoint>.atlas.safetensors` holds the test-set μ and log σ², a 2-D map of the means (t-SNE,
or the means themselves for a 2-D model), the maps of the epoch snapshots aligned to the final one
by an orthogonal Procrustes fit (the snapshot of the checkpoint's own epoch is that map itself), the
test labels, the per-dimension usage (mean KL for a VAE, the spread of the code for an autoencoder)
and every test image's score (vae.scores: reconstruction and KL, so one digit's numbers get a
percentile; atlases made before scores existed load without).
The snapshot maps of a t-SNE atlas cover a fixed sample
of `SNAPSHOT_MAP_ROWS` test digits (`snapshot.rows`; ten t-SNEs of all 10,000 would take most of an
hour on two cores): a reader gets [N, 2] arrays, NaN where a digit was not mapped. A shipped
checkpoint keeps no test codes for d > 2 (vae/snapshots.py): `run=` names the run file they come from.
Readers ignore tensors they do not know, so the format takes new per-digit arrays without a version bump.
It records the SHA-256 of its checkpoint file: the app
refuses an atlas made from another file rather than showing a map of another model.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vae.checkpoint import atomic_write_bytes, default_checkpoint_path, file_sha256, model_from_tensors, open_checkpoint
from vae.latent import encode_all
from vae.meta import CheckpointMeta
from vae.scores import METHOD as SCORE_METHOD
from vae.scores import Scores, score_images

ATLAS_FORMAT = "vae-latent-explorer-atlas/1"
SNAPSHOT_MAP_ROWS = 2000
Log = Callable[[str], None]


class AtlasError(Exception):
    """The atlas is missing, unreadable or was made from another checkpoint; says how to rebuild it."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: arrays have no single truth value
class Atlas:
    mu: np.ndarray  # float32 [N, d], test-set means
    logvar: np.ndarray | None  # float32 [N, d]; None for the autoencoder
    labels: np.ndarray  # int64 [N]
    coords: np.ndarray  # float32 [N, 2], the map of the means
    method: str  # "tsne" or "latent" (a 2-D model's own plane)
    snapshot_coords: dict[int, np.ndarray]  # epoch → [N, 2], aligned to `coords`; NaN where not mapped
    snapshot_rows: np.ndarray  # int64: the test rows the snapshot maps cover (all, or a fixed sample)
    dim_usage: np.ndarray  # float32 [d]: mean KL per dimension (VAE) or code std (autoencoder)
    usage_label: str
    checkpoint_sha256: str
    scores: Scores | None = None  # per test image; None in atlases made before scores were stored
    snapshots_left_out: tuple[int, ...] = ()  # snapshot epochs the file holds but no map was made of


def atlas_path(checkpoint: str | Path) -> Path:
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name.removesuffix(".safetensors") + ".atlas.safetensors")


def rebuild_hint(checkpoint: Path) -> str:
    return f"rebuild it with: python -m vae atlas {checkpoint}"


TSNE_ITERATIONS = 1000  # scikit-learn's default; the first 250 are its early exaggeration phase


def tsne_2d(points: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    tsne = TSNE(
        n_components=2,
        perplexity=30.0,
        init="pca",
        learning_rate="auto",
        random_state=seed,
        max_iter=TSNE_ITERATIONS,
    )
    return tsne.fit_transform(points.astype(np.float32)).astype(np.float32)


def procrustes_align(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotate/reflect, scale and shift `source` to best match `target` (least squares)."""
    src_mean, tgt_mean = source.mean(0), target.mean(0)
    src, tgt = source - src_mean, target - tgt_mean
    u, s, vt = np.linalg.svd(src.T @ tgt)
    rotation = u @ vt
    scale = s.sum() / max(float((src * src).sum()), 1e-12)
    return (scale * src @ rotation + tgt_mean).astype(np.float32)


# A VAE's coordinate whose mean KL over the test set is under this carries (almost) no information: its
# posterior is the prior whatever the digit. The sliders mark it "(unused)", Compare does not count it.
UNUSED_NATS = 0.05
# An autoencoder has no KL: its coordinate is used when its code varies across the data, Var_x(z_u) > 0.01
# (Burda et al. 2016's "active units").
ACTIVE_VARIANCE = 0.01


def dimension_usage(mu: torch.Tensor, logvar: torch.Tensor | None) -> tuple[np.ndarray, str]:
    """How much the model uses each coordinate: a dimension with ~0 KL carries no information."""
    if logvar is None:
        return mu.std(0).numpy().astype(np.float32), "std of the code"
    kl = 0.5 * (torch.exp(logvar) - logvar - 1 + mu * mu)
    return kl.mean(0).numpy().astype(np.float32), "mean KL (nats)"


def unused_dimensions(dim_usage: np.ndarray, usage_label: str) -> int:
    """How many coordinates the VAE ignores (mean KL below UNUSED_NATS); 0 for an autoencoder."""
    if "KL" not in usage_label:
        return 0
    return int((np.asarray(dim_usage) < UNUSED_NATS).sum())


def coordinates_used(mu: torch.Tensor, logvar: torch.Tensor | None) -> int:
    """How many coordinates the model uses: a VAE's all but its unused_dimensions, an autoencoder's whose
    code varies more than ACTIVE_VARIANCE across the data."""
    if logvar is None:
        return int((mu.float().var(0) > ACTIVE_VARIANCE).sum())
    usage, label = dimension_usage(mu.float().cpu(), logvar.float().cpu())
    return len(usage) - unused_dimensions(usage, label)


def snapshot_codes(tensors: dict[str, torch.Tensor], meta: CheckpointMeta, run: Path | None) -> dict[int, torch.Tensor]:
    """epoch → test-set means, from the checkpoint or else from the run file it was exported from."""
    if run is not None:
        run_tensors, run_meta = open_checkpoint(run)
        if (run_meta.model, run_meta.train, run_meta.epoch) != (meta.model, meta.train, meta.epoch):
            raise AtlasError(f"{run} is not the run this checkpoint was exported from (model, training or epoch)")
        tensors = run_tensors
    return {
        int(name.split(".")[1]): tensors[name]
        for name in tensors
        if name.startswith("snapshot.") and name.endswith(".mu") and name.count(".") == 2
    }


def kept_snapshots(epochs: list[int], own: int | None, most: int | None) -> list[int]:
    """The snapshot epochs to map: all, or the checkpoint's own and `most` others spread evenly from the first
    to the last (both kept), so the start of training, where most happens, and its end are there."""
    others = [epoch for epoch in sorted(epochs) if epoch != own]
    if most is not None and len(others) > most:
        picks = {round(i * (len(others) - 1) / max(most - 1, 1)) for i in range(most)} if most > 0 else set()
        others = [others[i] for i in sorted(picks)]
    return sorted(others + ([own] if own in epochs else []))


def build_atlas(
    checkpoint: str | Path | None = None,
    data_dir: str | Path | None = None,
    seed: int = 0,
    log: Log = print,
    mapper: Callable[[np.ndarray, int], np.ndarray] | None = None,
    run: str | Path | None = None,
    scores: bool = True,
    on_map: Callable[[int, int], None] | None = None,
    max_snapshots: int | None = None,
) -> Path:
    """Write the checkpoint's atlas beside it. `mapper(points, seed)` makes the 2-D maps: scikit-learn's
    t-SNE by default; the app passes vae.quick_map for a model trained a moment ago. scores=False leaves
    out the per-image scores (5 s for d = 20 on two cores), which add_scores can store afterwards.
    on_map(index, count) is called before each of the `count` maps the mapper makes (none for a 2-D model:
    its codes are its map): the final map, then one per snapshot epoch other than the checkpoint's own.
    max_snapshots bounds those (kept_snapshots): a file from elsewhere may hold hundreds, each a t-SNE."""
    from safetensors.torch import save

    from vae.data import load_mnist

    checkpoint = Path(checkpoint) if checkpoint is not None else default_checkpoint_path()
    tensors, meta = open_checkpoint(checkpoint)
    model = model_from_tensors(tensors, meta).eval()
    test = load_mnist("test", data_dir, log)
    mu, logvar = encode_all(model, test.images)
    flat = model.latent_dim == 2
    method = "latent" if flat else "tsne"

    codes = snapshot_codes(tensors, meta, Path(run) if run is not None else None)
    epochs = kept_snapshots(list(codes), meta.epoch, max_snapshots)
    left_out = sorted(set(codes) - set(epochs))
    mapped = itertools.count()
    count = 1 + sum(epoch != meta.epoch for epoch in epochs)

    def to_map(points: torch.Tensor) -> np.ndarray:
        if flat:
            return points.float().numpy().astype(np.float32)
        if on_map is not None:
            on_map(next(mapped), count)
        started = time.perf_counter()
        coords = (mapper or tsne_2d)(points.float().numpy(), seed)
        log(f"t-SNE of {len(coords)} points in {time.perf_counter() - started:.0f} s")
        return coords

    coords = to_map(mu)
    out = {"mu": mu.half(), "labels": test.labels.to(torch.int8), "coords": torch.from_numpy(coords)}
    if logvar is not None:
        out["logvar"] = logvar.half()
    usage, usage_label = dimension_usage(mu, logvar)
    out["dim_usage"] = torch.from_numpy(usage)
    if scores:
        out.update(score_tensors(model, test.images))
    rows = np.arange(len(coords))
    if not flat and len(rows) > SNAPSHOT_MAP_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(coords), SNAPSHOT_MAP_ROWS, replace=False))
        out["snapshot.rows"] = torch.from_numpy(rows.astype(np.int64))
    for epoch in epochs:
        if epoch == meta.epoch:  # the checkpoint's own codes: its map, so the last frame is the map itself
            aligned = coords[rows]
        else:
            log(f"map of the epoch-{epoch} snapshot ({len(rows)} digits)")
            aligned = procrustes_align(to_map(codes[epoch][torch.from_numpy(rows)]), coords[rows])
        out[f"snapshot.{epoch}.coords"] = torch.from_numpy(aligned).half()  # a thumbnail map: float16 is plenty
    atlas_meta = {
        "format": ATLAS_FORMAT,
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": file_sha256(checkpoint),
        "method": method,
        "usage_label": usage_label,
        "seed": str(seed),
        "snapshot_epochs": json.dumps(epochs),
        "snapshot_epochs_left_out": json.dumps(left_out),
        "score_method": SCORE_METHOD,
    }
    path = atlas_path(checkpoint)
    atomic_write_bytes(path, save({k: v.contiguous() for k, v in out.items()}, metadata=atlas_meta))
    return path


def score_tensors(model: torch.nn.Module, images: torch.Tensor) -> dict[str, torch.Tensor]:
    scores = score_images(model, images)
    out = {"score.recon": torch.from_numpy(scores.recon)}
    if scores.kl is not None:
        out["score.kl"] = torch.from_numpy(scores.kl)
    return out


def add_scores(checkpoint: str | Path, data_dir: str | Path | None = None, log: Log = print) -> Path:
    """Store per-test-image scores in an existing atlas, keeping its map (no t-SNE is run again)."""
    from safetensors import safe_open
    from safetensors.torch import save

    from vae.data import load_mnist

    checkpoint = Path(checkpoint)
    load_atlas(checkpoint)  # refuses a missing, damaged or stale atlas with the usual message
    path = atlas_path(checkpoint)
    with safe_open(str(path), framework="pt") as handle:
        meta = dict(handle.metadata() or {})
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not iterable)
    test = load_mnist("test", data_dir, log)
    weights, checkpoint_meta = open_checkpoint(checkpoint)
    tensors.update(score_tensors(model_from_tensors(weights, checkpoint_meta).eval(), test.images))
    meta["score_method"] = SCORE_METHOD
    atomic_write_bytes(path, save({k: v.contiguous() for k, v in tensors.items()}, metadata=meta))
    return path


def load_atlas(checkpoint: str | Path | None = None, verify: bool = True) -> Atlas:
    """The checkpoint's atlas; AtlasError if it is missing, damaged or stale (made from another file)."""
    from safetensors import safe_open

    checkpoint = Path(checkpoint) if checkpoint is not None else default_checkpoint_path()
    path = atlas_path(checkpoint)
    if not path.is_file():
        raise AtlasError(f"{checkpoint.name} has no map yet ({path.name} is missing); {rebuild_hint(checkpoint)}")
    try:
        with safe_open(str(path), framework="np") as handle:
            meta = handle.metadata() or {}
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not iterable)
        if meta.get("format") != ATLAS_FORMAT:
            raise ValueError("not an atlas file")
        epochs = json.loads(meta["snapshot_epochs"])
        count = len(arrays["labels"])
        rows = arrays["snapshot.rows"].astype(np.int64) if "snapshot.rows" in arrays else np.arange(count)

        def full_size(mapped: np.ndarray) -> np.ndarray:
            coords = np.full((count, 2), np.nan, dtype=np.float32)
            coords[rows] = mapped.astype(np.float32)
            return coords

        atlas = Atlas(
            mu=arrays["mu"].astype(np.float32),
            logvar=arrays["logvar"].astype(np.float32) if "logvar" in arrays else None,
            labels=arrays["labels"].astype(np.int64),
            coords=arrays["coords"],
            method=meta["method"],
            snapshot_coords={int(e): full_size(arrays[f"snapshot.{e}.coords"]) for e in epochs},
            snapshot_rows=rows,
            dim_usage=arrays["dim_usage"],
            usage_label=meta["usage_label"],
            checkpoint_sha256=meta["checkpoint_sha256"],
            scores=Scores(arrays["score.recon"], arrays.get("score.kl")) if "score.recon" in arrays else None,
            snapshots_left_out=tuple(int(e) for e in json.loads(meta.get("snapshot_epochs_left_out", "[]"))),
        )
    except Exception as exc:  # a damaged file can fail in safetensors, json or a missing key
        raise AtlasError(f"{path.name} cannot be read ({exc}); {rebuild_hint(checkpoint)}") from exc
    if verify and atlas.checkpoint_sha256 != file_sha256(checkpoint):
        raise AtlasError(
            f"the map in {path.name} was made from another version of {checkpoint.name}, so it would show "
            f"another model; {rebuild_hint(checkpoint)}"
        )
    return atlas
