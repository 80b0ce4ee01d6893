"""A model trained from the app: its settings (with the form's limits), and the job that trains it.

The job runs the library's trainer (vae.training.fit) in a worker thread of the queue
(explorer/training_jobs.py) with two hooks: after every batch it reports progress and checks for a
cancel; after every epoch it records what the live views draw (losses, the panel's reconstructions,
for d = 2 the test codes). fit writes the checkpoint after every epoch, so the file always holds the
last good epoch, whatever stops the run: that file is the result.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.training_jobs import EpochResult, TrainingJob
from vae.config import ModelConfig, TrainConfig
from vae.data import MnistSplit
from vae.latent import decode_to_uint8, encode_all
from vae.training import RunState, TrainingDiverged, fit

RUNS_ENV = "VAE_RUNS_DIR"  # where the operator lets trained models be kept; unset: a temporary folder
KINDS = {"vae": "VAE", "ae": "autoencoder"}
LATENT_DIMS = (2, 64)
# β on a log scale with 0 in front: 0 is an autoencoder with a noisy code, 1 the VAE, > 1 a β-VAE.
BETAS: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 6.0, 10.0)
EPOCHS = (1, 50)
LEARNING_RATES: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
# The lecture's notebook (NYU DLSP20, 11-VAE.ipynb) trains with batches of 256; pytorch/examples uses 128.
BATCH_SIZES: tuple[int, ...] = (32, 64, 128, 256, 512)
LECTURE_BATCH = 256
MAX_SEED = 2**31 - 1
PANEL_SIZE = 16  # the lecture's fixed panel: the first 16 test digits
THREADS_EVERY_S = 1.0  # how often a running job asks again how many threads it may use
BUBBLE_DIGITS = 1000  # test digits drawn with their bubbles for d = 2 (all 10,000 would make the page heavy)


@dataclass(frozen=True)
class TrainSettings:
    kind: str = "vae"
    latent_dim: int = 20
    beta: float = 1.0
    epochs: int = 10
    lr: float = 1e-3
    seed: int = 1
    batch_size: int = LECTURE_BATCH

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in KINDS:
            problems.append(f"the kind must be VAE or autoencoder, not {self.kind!r}")
        if not LATENT_DIMS[0] <= self.latent_dim <= LATENT_DIMS[1]:
            problems.append(f"d must be between {LATENT_DIMS[0]} and {LATENT_DIMS[1]}, not {self.latent_dim}")
        if not (math.isfinite(self.beta) and BETAS[0] <= self.beta <= BETAS[-1]):
            problems.append(f"β must be between {BETAS[0]:g} and {BETAS[-1]:g}, not {self.beta}")
        if not EPOCHS[0] <= self.epochs <= EPOCHS[1]:
            problems.append(f"epochs must be between {EPOCHS[0]} and {EPOCHS[1]}, not {self.epochs}")
        if not (math.isfinite(self.lr) and LEARNING_RATES[0] <= self.lr <= LEARNING_RATES[-1]):
            problems.append(f"the learning rate must be between {LEARNING_RATES[0]:g} and {LEARNING_RATES[-1]:g}")
        if self.batch_size not in BATCH_SIZES:
            problems.append(f"the batch size must be one of {', '.join(map(str, BATCH_SIZES))}, not {self.batch_size}")
        if not 0 <= self.seed <= MAX_SEED:
            problems.append(f"the seed must be between 0 and {MAX_SEED}")
        if problems:
            raise ValueError("Out of range: " + "; ".join(problems) + ".")

    def describe(self) -> str:
        beta = f", β = {self.beta:g}" if self.kind == "vae" else ""
        return (
            f"{KINDS[self.kind]}, d = {self.latent_dim}{beta}, {self.epochs} epoch{'s' if self.epochs != 1 else ''}, "
            f"batch {self.batch_size}, "
            f"lr {self.lr:g}, seed {self.seed}"
        )

    def file_stem(self, epochs_held: int | None = None) -> str:
        """ "vae_d20_beta4_e10_s1"; a run stopped early (cancelled, or a NaN) names what it holds of what was
        asked, "e3of10", so it is not taken for a finished 3-epoch run."""
        beta = f"_beta{self.beta:g}" if self.kind == "vae" else ""
        batch = "" if self.batch_size == LECTURE_BATCH else f"_b{self.batch_size}"
        held = "" if epochs_held is None or epochs_held >= self.epochs else f"{epochs_held}of"
        return f"{self.kind}_d{self.latent_dim}{beta}_e{held}{self.epochs}{batch}_s{self.seed}"


def run_progress(
    epochs_done: int, epoch_fraction: float, epochs: int, seconds: float, training_seconds: float
) -> tuple[float, str]:
    """The Train view's bar: the share done, and its line "Epoch 3 of 10 · 7 s · about 14 s left". The time
    left carries the steps' pace so far (training_seconds: from the end of the epoch-0 evaluation, which
    would inflate it) to the end; it is said once a twentieth of the run is done."""
    done = min(1.0, (epochs_done + epoch_fraction) / epochs)
    line = f"Epoch {min(epochs_done + 1, epochs)} of {epochs} · {seconds:.0f} s"
    if 0.05 <= done < 1.0 and training_seconds > 0:
        left = training_seconds * (1.0 - done) / done
        line += f" · about {left:.0f} s left" if left < 90 else f" · about {left / 60:.0f} min left"
    return done, line


@dataclass(frozen=True)
class SharedData:
    """The training and test sets, loaded once per server and read by every job (never copied)."""

    train: MnistSplit
    test: MnistSplit


def runs_folder() -> tuple[Path, bool]:
    """Where trained checkpoints go, and whether the operator chose it (kept) or it is temporary."""
    chosen = os.environ.get(RUNS_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser(), True
    return Path(tempfile.gettempdir()) / "vae-explorer-runs", False


def configs(settings: TrainSettings) -> tuple[ModelConfig, TrainConfig]:
    model = ModelConfig(kind=settings.kind, latent_dim=settings.latent_dim)
    train = TrainConfig(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        beta=settings.beta if settings.kind == "vae" else 1.0,
        seed=settings.seed,
        snapshot_epochs=(),
    )
    return model, train


@torch.no_grad()
def panel_reconstructions(run: RunState, panel: torch.Tensor) -> np.ndarray:
    mu, _ = encode_all(run.model, panel)
    return decode_to_uint8(run.model, mu).numpy()


def train_job(
    job: TrainingJob,
    data: SharedData,
    folder: Path,
    threads: int | Callable[[], int] | None = None,
    keep_abandoned: bool = False,
) -> None:
    """The queue's worker body: train `job.settings` and record every epoch into the job. The checkpoint
    stays in `folder` unless no epoch finished or (without keep_abandoned) its session went away.
    threads: this worker thread's torch threads, or a function asked before every epoch and every
    THREADS_EVERY_S within one (the server's load changes while a job runs); None leaves torch's setting alone."""
    settings: TrainSettings = job.settings
    model_config, config = configs(settings)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{settings.file_stem()}_{time.strftime('%Y%m%d-%H%M%S')}_{job.id}.safetensors"
    panel = data.test.images[:PANEL_SIZE]
    bubbles = data.test.images[:BUBBLE_DIGITS]

    next_threads_check = 0.0

    def set_threads() -> None:
        nonlocal next_threads_check
        if threads is not None:
            torch.set_num_threads(threads() if callable(threads) else threads)
        next_threads_check = time.monotonic() + THREADS_EVERY_S

    set_threads()

    def on_batch(seen: int, total: int) -> None:
        job.report_batch(job.epoch + 1, seen, total)
        job.raise_if_cancelled()
        if callable(threads) and time.monotonic() >= next_threads_check:
            set_threads()

    def on_epoch(run: RunState) -> None:
        history = run.history[-1]  # fit records epoch 0 (the losses before the first step) itself
        codes = None
        if settings.latent_dim == 2:
            mu, logvar = encode_all(run.model, bubbles)
            codes = (mu.numpy(), None if logvar is None else logvar.numpy())
        result = out if run.epoch > 0 else None  # the file now holds this epoch
        job.report_epoch(EpochResult(run.epoch, history, panel_reconstructions(run, panel), codes, result))
        job.raise_if_cancelled()
        set_threads()

    try:
        fit(
            model_config,
            config,
            data.train,
            data.test,
            out,
            device="cpu",
            progress=False,
            log=lambda _: None,
            on_batch=on_batch,
            on_epoch=on_epoch,
        )
    except TrainingDiverged:
        raise TrainingDiverged(
            f"the loss became NaN or infinite in epoch {job.epoch + 1}"
            + (f"; the model of epoch {job.epoch} is kept" if job.epoch else "")
            + ". Try a lower learning rate."
        ) from None
    finally:
        if job.result is None or (job.abandoned and not keep_abandoned):  # no one will take it
            out.unlink(missing_ok=True)
