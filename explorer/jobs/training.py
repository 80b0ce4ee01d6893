"""A model trained from the app: its settings (with the form's limits), and the job that trains it.

The job runs the library's trainer (vae.training.fit) in a worker thread of the queue
(explorer/jobs/queue.py) with two hooks: after every batch it publishes progress and checks for a
cancel; after every epoch it publishes what the live views draw (losses, the run's recorded panel,
for d = 2 the test codes). fit writes the checkpoint after every epoch, so the file always holds the
last good epoch, whatever stops the run: that file is the result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from explorer.jobs.queue import Job, JobCancelled, JobFailed
from explorer.words import count
from vae.config import ModelConfig, TrainConfig
from vae.data import MnistSplit
from vae.images import as_uint8
from vae.kinds import KINDS, kind_of
from vae.latent import encode_all
from vae.training import RunState, TrainingDiverged, fit

LATENT_DIMS = (2, 64)
# β on a log scale with 0 in front: 0 is an autoencoder with a noisy code, 1 the VAE, > 1 a β-VAE.
BETAS: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 6.0, 10.0)
EPOCHS = (1, 50)
LEARNING_RATES: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
# The lecture's notebook (NYU DLSP20, 11-VAE.ipynb) trains with batches of 256; pytorch/examples uses 128.
BATCH_SIZES: tuple[int, ...] = (32, 64, 128, 256, 512)
LECTURE_BATCH = 256
MAX_SEED = 2**31 - 1
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
        if self.kind not in KINDS:  # the form offers the registry's kinds
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
        beta = f", β = {self.beta:g}" if kind_of(self).has_posterior else ""
        return (
            f"{KINDS[self.kind].label}, d = {self.latent_dim}{beta}, {count(self.epochs, 'epoch')}, "
            f"batch {self.batch_size}, "
            f"lr {self.lr:g}, seed {self.seed}"
        )

    def file_stem(self, epochs_held: int | None = None) -> str:
        """ "vae_d20_beta4_e10_s1"; a run stopped early (cancelled, or a NaN) names what it holds of what was
        asked, "e3of10", so it is not taken for a finished 3-epoch run."""
        beta = f"_beta{self.beta:g}" if kind_of(self).has_posterior else ""
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
class TrainingProgress:
    """What a training job has published: replaced whole, so a page never sees half an epoch."""

    epoch: int = 0  # epochs finished
    epoch_fraction: float = 0.0  # share of the current epoch done
    history: tuple[dict[str, Any], ...] = ()  # {"epoch", "train": {recon, kl, total}, "test": {...}, "seconds"}
    panel_rows: Any = None  # the test rows of the run's panel (every digit), as fit records it
    panels: tuple[tuple[int, Any], ...] = ()  # (epoch, uint8 [P, 28, 28]): the panel's reconstructions
    codes: tuple[tuple[int, tuple[Any, Any]], ...] = ()  # (epoch, (μ, log σ²)) of the shown test digits, d = 2
    first_report: float = 0.0  # monotonic time of epoch 0's report: the steps' own time starts there

    def training_seconds(self, at: float) -> float:
        return at - self.first_report if self.first_report else 0.0


def cancelled_message(job: Job, done: TrainingProgress) -> str:
    """Counted as the progress line counts: "Epoch 2 of 3" is the second epoch, under way."""
    if done.epoch_fraction > 0:
        when = f"during epoch {done.epoch + 1}"
    else:
        when = f"after epoch {done.epoch}" if done.epoch > 0 else "before its first step"
    kept = f"; epoch {done.epoch} is kept" if job.result is not None and done.epoch > 0 else "; no epoch had finished"
    return f"Cancelled {when} ({job.cancel_reason}){kept}."


@dataclass(frozen=True)
class SharedData:
    """The training and test sets, loaded once per server and read by every job (never copied)."""

    train: MnistSplit
    test: MnistSplit


def configs(wanted: TrainSettings) -> tuple[ModelConfig, TrainConfig]:
    model = ModelConfig(kind=wanted.kind, latent_dim=wanted.latent_dim)
    train = TrainConfig(
        epochs=wanted.epochs,
        batch_size=wanted.batch_size,
        lr=wanted.lr,
        beta=wanted.beta if kind_of(wanted).has_posterior else 1.0,
        seed=wanted.seed,
        snapshot_epochs=(),
    )
    return model, train


def recorded_panel(run: RunState) -> np.ndarray:
    """This epoch's reconstructions of the panel, as fit recorded them in the run (uint8 [P, 28, 28])."""
    return as_uint8(run.snapshots["panel.recon"][-1].numpy())


def train_job(
    job: Job,
    data: SharedData,
    folder: Path,
    threads: int | Callable[[], int] | None = None,
    keep_abandoned: bool = False,
) -> str:
    """The queue's work: train `job.payload` and publish every epoch into the job; returns the line said
    when it is done. The checkpoint
    stays in `folder` unless no epoch finished or (without keep_abandoned) its session went away.
    threads: this worker thread's torch threads, or a function asked before every epoch (the server's
    load changes while a job runs); None leaves torch's setting alone."""
    wanted: TrainSettings = job.payload
    model_config, config = configs(wanted)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{wanted.file_stem()}_{time.strftime('%Y%m%d-%H%M%S')}_{job.id}.safetensors"
    bubbles = data.test.images[:BUBBLE_DIGITS]
    done = TrainingProgress()

    def set_threads() -> None:
        if threads is not None:
            torch.set_num_threads(threads() if callable(threads) else threads)

    set_threads()

    def on_batch(seen: int, total: int) -> None:
        nonlocal done
        done = replace(done, epoch_fraction=seen / max(total, 1))
        job.publish(done)
        job.raise_if_cancelled()

    def on_epoch(run: RunState) -> None:
        nonlocal done
        codes = done.codes
        if wanted.latent_dim == 2:
            mu, logvar = encode_all(run.model, bubbles)
            codes += ((run.epoch, (mu.numpy(), None if logvar is None else logvar.numpy())),)
        done = replace(
            done,
            epoch=run.epoch,
            epoch_fraction=0.0,
            history=(*done.history, run.history[-1]),  # fit records epoch 0 (before the first step) itself
            panel_rows=run.snapshots["panel.rows"].numpy(),
            panels=(*done.panels, (run.epoch, recorded_panel(run))),
            codes=codes,
            first_report=done.first_report or time.monotonic(),
        )
        job.publish(done, result=out if run.epoch > 0 else None)  # the file now holds this epoch
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
    except JobCancelled:
        raise JobCancelled(cancelled_message(job, done)) from None
    except TrainingDiverged:
        raise JobFailed(
            f"Stopped: the loss became NaN or infinite in epoch {done.epoch + 1}"
            + (f"; the model of epoch {done.epoch} is kept" if done.epoch else "")
            + ". Try a lower learning rate."
        ) from None
    finally:
        if job.result is None or (job.abandoned and not keep_abandoned):  # no one will take it
            out.unlink(missing_ok=True)
    return f"Trained {count(done.epoch, 'epoch')}."
