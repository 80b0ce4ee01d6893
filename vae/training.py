"""The trainer: data kept on the device as one tensor, no DataLoader, no host sync per step.

Every epoch ends with an atomic checkpoint holding the weights, the optimizer and RNG states and
the test-set snapshots, so `resume` continues exactly as an uninterrupted run would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vae.checkpoint import CheckpointError, model_from_tensors, model_tensors, open_checkpoint, write_checkpoint
from vae.config import ConfigError, ModelConfig, TrainConfig
from vae.data import MnistSplit
from vae.evaluate import split_loss
from vae.mnist_shape import TEST_SIZE
from vae.model import LatentModel, build_model
from vae.snapshots import is_record, panel_rows, record_panel, record_snapshot
from vae.train_step import TrainStep, resolve_precision

Log = Callable[[str], None]
OnBatch = Callable[[int, int], None]  # (images seen this epoch, images per epoch); may raise to stop the run


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def resolve_device(name: str = "auto") -> torch.device:
    """auto → cuda, then mps, then cpu; asking for an absent accelerator is a clear error."""
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if name == "auto":
        return torch.device(next(kind for kind in ("cuda", "mps", "cpu") if available[kind]))
    if name not in available:
        raise ConfigError(f"unknown device {name!r}: use auto, cpu, cuda or mps")
    if not available[name]:
        raise ConfigError(f"device {name!r} is not available on this machine; use --device cpu or auto")
    return torch.device(name)


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    if config.lr_schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    return config.lr


# ---------------------------------------------------------------- state that a resume needs


def rng_tensors(shuffle: torch.Generator, noise: torch.Generator) -> dict[str, torch.Tensor]:
    return {"rng.shuffle": shuffle.get_state(), "rng.noise": noise.get_state()}


def noise_generator(device: torch.device, seed: int) -> torch.Generator:
    """The run's own generator for ε, on the device that draws it: the global RNG is never touched."""
    return torch.Generator(device).manual_seed(seed)


def restore_rng(tensors: dict[str, torch.Tensor], shuffle: torch.Generator, noise: torch.Generator, path: Path) -> None:
    shuffle.set_state(tensors["rng.shuffle"])
    if "rng.noise" not in tensors:
        raise CheckpointError(f"{path}: written before runs kept their own noise generator; it cannot be resumed")
    noise.set_state(tensors["rng.noise"])


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    state = optimizer.state_dict()
    tensors = {f"optim.{pid}.{key}": value for pid, entry in state["state"].items() for key, value in entry.items()}
    return tensors, state["param_groups"]


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict]) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": groups})


@dataclass
class RunState:
    model: LatentModel
    step: TrainStep
    optimizer: torch.optim.Optimizer
    shuffle: torch.Generator
    noise: torch.Generator
    epoch: int
    history: list[dict[str, Any]]
    snapshots: dict[str, torch.Tensor]


def prepare(model: LatentModel, config: TrainConfig, noise: torch.Generator) -> tuple[TrainStep, torch.optim.Optimizer]:
    device = next(model.parameters()).device
    step = TrainStep(model, resolve_precision(config.precision, device), config.beta, noise)
    # The fused kernel updates every parameter in one call; torch has it on CPU and CUDA.
    fused = device.type in ("cpu", "cuda")
    return step, torch.optim.Adam(model.parameters(), lr=config.lr, fused=fused)


def new_run(
    model_config: ModelConfig, config: TrainConfig, device: torch.device, train_images: torch.Tensor
) -> RunState:
    with torch.random.fork_rng(devices=[]):  # PyTorch's layer init reads the global RNG: seed it, then put it back
        torch.manual_seed(config.seed)
        model = build_model(model_config)
    model = model.to(device)
    if config.output_bias_init == "data-mean":
        model.start_at_mean_image(train_images)
    shuffle = torch.Generator().manual_seed(config.seed)
    noise = noise_generator(device, config.seed)
    return RunState(model, *prepare(model, config, noise), shuffle, noise, 0, [], {})


def resume_run(path: Path, model_config: ModelConfig, config: TrainConfig, device: torch.device) -> RunState:
    tensors, meta = open_checkpoint(path)
    if meta.model != model_config:
        raise CheckpointError(f"{path}: was trained with {meta.model.to_dict()}, not {model_config.to_dict()}")
    if meta.train is None:
        raise CheckpointError(f"{path}: records no training configuration, so it cannot be resumed")
    if {**meta.train.to_dict(), "epochs": config.epochs} != config.to_dict():
        raise CheckpointError(f"{path}: was trained with {meta.train.to_dict()}; only --epochs may change on --resume")
    if not meta.resumable or "rng.shuffle" not in tensors:
        raise CheckpointError(f"{path}: an exported checkpoint (no optimizer state) cannot be resumed")
    model = model_from_tensors(tensors, meta).to(device)
    shuffle, noise = torch.Generator(), noise_generator(device, config.seed)
    restore_rng(tensors, shuffle, noise, path)
    step, optimizer = prepare(model, config, noise)
    try:
        restore_optimizer(optimizer, tensors, meta.raw["optimizer"]["param_groups"])
    except (ValueError, KeyError) as error:
        raise CheckpointError(f"{path}: its optimizer state does not fit this trainer ({error})") from error
    snapshots = {k: v for k, v in tensors.items() if is_record(k)}
    history = list(meta.raw.get("history") or [])  # kept as written: it is written back unchanged
    return RunState(model, step, optimizer, shuffle, noise, meta.epoch or 0, history, snapshots)


def save_run(path: Path, run: RunState, config: TrainConfig, device: torch.device, data_md5: dict) -> None:
    optim, groups = optimizer_tensors(run.optimizer)
    tensors = {**model_tensors(run.model), **optim, **rng_tensors(run.shuffle, run.noise), **run.snapshots}
    meta = {
        "model": run.model.config.to_dict(),
        "kind": run.model.kind,
        "train": config.to_dict(),
        "epoch": run.epoch,
        "history": run.history,
        "metrics": run.history[-1] if run.history else {},
        "data_md5": data_md5,
        "device": device.type,
        "precision": run.step.precision,
        "optimizer": {"param_groups": groups},
    }
    write_checkpoint(path, tensors, meta)


def take_snapshot(run: RunState, test_images: torch.Tensor) -> None:
    """Test-set codes and weights at this epoch, in float16 (vae/snapshots.py): the maps and the
    decoder of the Training view's epoch slider."""
    record_snapshot(run.snapshots, run.model.eval(), test_images, run.epoch)


def record_epoch(run: RunState, config: TrainConfig, test_images: torch.Tensor, panel: torch.Tensor) -> None:
    """What the Training view replays: the panel after every epoch, a snapshot at the chosen ones and the last."""
    record_panel(run.snapshots, run.model, panel, run.epoch)
    if run.epoch in config.snapshot_epochs or run.epoch == config.epochs:
        take_snapshot(run, test_images)


# Epoch 0's training loss is measured on as many training images as the test set has: the untrained model
# has seen none of them, so it is the full set's to a fraction of a nat, and a live run starts sooner.
STARTING_TRAIN_IMAGES = TEST_SIZE


def starting_losses(run: RunState, config: TrainConfig, train_images: torch.Tensor, test_images: torch.Tensor) -> None:
    """Epoch 0 of the history: the losses before the first step (the lecture's ~540 nats)."""
    model = run.model.eval()
    train = split_loss(model, train_images[:STARTING_TRAIN_IMAGES], beta=config.beta, seed=0)
    run.history.append({"epoch": 0, "train": train, "test": split_loss(model, test_images, beta=config.beta, seed=0)})


# ---------------------------------------------------------------- the loop


def format_terms(label: str, terms: dict[str, float]) -> str:
    return f"{label} recon {terms['recon']:7.2f}  kl {terms['kl']:6.2f}  total {terms['total']:7.2f} nats/image"


def train_epoch(
    run: RunState, images: torch.Tensor, config: TrainConfig, progress: bool, on_batch: OnBatch | None = None
) -> dict[str, float]:
    from tqdm import tqdm

    n = images.shape[0]
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    # A gather per batch: its 400 kB stay in cache, where shuffling the whole 188 MB set costs 6× more.
    order = torch.randperm(n, generator=run.shuffle).to(images.device)
    sums = torch.zeros(3, device=images.device)
    bar = tqdm(total=n, desc=f"epoch {run.epoch + 1}/{config.epochs}", unit="img", disable=not progress, leave=False)
    for batch, start in enumerate(range(0, n, config.batch_size)):
        lr = learning_rate(config, (run.epoch * steps_per_epoch) + batch, total_steps)
        for group in run.optimizer.param_groups:
            group["lr"] = lr
        terms = run.step(images.index_select(0, order[start : start + config.batch_size]))
        run.optimizer.step()
        sums += torch.stack((terms.recon, terms.kl, terms.total))
        if on_batch is not None:
            on_batch(min(start + config.batch_size, n), n)
        if progress and (batch % 25 == 24 or start + config.batch_size >= n):
            seen = min(start + config.batch_size, n)
            bar.update(seen - bar.n)
            bar.set_postfix(loss=f"{sums[2].item() / seen:.2f}")  # one sync per 25 steps, for the display only
    bar.close()
    recon, kl, total = (sums / n).tolist()
    return {"recon": recon, "kl": kl, "total": total}


def fit(
    model_config: ModelConfig,
    config: TrainConfig,
    train_data: MnistSplit,
    test_data: MnistSplit,
    out: str | Path,
    device: str | torch.device = "auto",
    resume: bool = False,
    progress: bool = True,
    log: Log = print,
    on_batch: OnBatch | None = None,
    on_epoch: Callable[[RunState], None] | None = None,
) -> LatentModel:
    """Train (or continue) and write `out` after every epoch. Returns the model in eval mode.

    on_batch is called after every step and on_epoch after every saved epoch (epoch 0 too): a caller
    such as the app's job queue shows progress with them and stops the run by raising.
    """
    out = Path(out)
    device = resolve_device(device) if isinstance(device, str) else device
    train_images, test_images = train_data.images.to(device), test_data.images.to(device)
    if resume:
        run = resume_run(out, model_config, config, device)
    else:
        run = new_run(model_config, config, device, train_images)
    data_md5 = {"train": train_data.md5, "test": test_data.md5}
    rows = run.snapshots.setdefault("panel.rows", panel_rows(test_data.labels))
    panel = test_images.index_select(0, rows.to(device))
    if run.epoch == 0:
        starting_losses(run, config, train_images, test_images)
        record_epoch(run, config, test_images, panel)
        save_run(out, run, config, device, data_md5)
        if on_epoch is not None:
            on_epoch(run)
    elif run.epoch >= config.epochs:
        log(f"{out} is already at epoch {run.epoch} of {config.epochs}; nothing to do")
    if run.epoch < config.epochs:
        log(f"training on {device.type} with {run.step.precision} matrix products")
    while run.epoch < config.epochs:
        started = time.perf_counter()
        train_metrics = train_epoch(run, train_images, config, progress, on_batch)
        seconds = time.perf_counter() - started
        # The last steps of an epoch can blow the weights up after the running loss was taken: check the
        # test loss of the new weights too, before anything is saved.
        test_metrics = split_loss(run.model.eval(), test_images, beta=config.beta, seed=run.epoch + 1)
        for split, metrics in (("training", train_metrics), ("test", test_metrics)):
            if not all(math.isfinite(v) for v in metrics.values()):
                raise TrainingDiverged(
                    f"the {split} loss became {metrics['total']} in epoch {run.epoch + 1}; stopped, and {out} "
                    f"still holds epoch {run.epoch}. Try a lower --lr."
                )
        run.epoch += 1
        run.history.append({"epoch": run.epoch, "train": train_metrics, "test": test_metrics, "seconds": seconds})
        record_epoch(run, config, test_images, panel)
        save_run(out, run, config, device, data_md5)
        if on_epoch is not None:
            on_epoch(run)
        log(
            f"epoch {run.epoch:3d}  {seconds:5.2f} s   "
            f"{format_terms('train', train_metrics)}   {format_terms('test', test_metrics)}"
        )
    return run.model.eval()
