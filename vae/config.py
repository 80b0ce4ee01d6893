"""Typed configurations, saved as JSON inside every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from vae.kinds import KINDS, VAE_KIND
from vae.mnist_shape import IMAGE_SIDE, PIXELS

LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")
OUTPUT_BIAS_INITS: tuple[str, ...] = ("data-mean", "torch-default")
# Dense early, where the model changes most; the run's last epoch is always added (vae/training.py).
DEFAULT_SNAPSHOT_EPOCHS: tuple[int, ...] = (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
# The largest sizes anyone could want for MNIST (the lecture uses d = 20, h = 400). A checkpoint's config is
# checked against them before any weight is allocated, so a file cannot make the server build a huge model.
MAX_LATENT_DIM = 256
MAX_HIDDEN_DIM = 4096


class ConfigError(ValueError):
    """A setting the user gave that cannot work (a bad hyperparameter, device or path); says which and why."""


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build a dataclass from a dict, refusing unknown keys so a typo never passes silently."""
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    return cls(**data)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture: encoder 784→hidden→(2)d, decoder d→hidden→784 (the lecture's VAE by default)."""

    kind: str = VAE_KIND.name  # a name in vae.kinds.KINDS
    input_dim: int = PIXELS
    hidden_dim: int = 400
    latent_dim: int = 20

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"kind must be one of {tuple(KINDS)}, not {str(self.kind)[:20]!r}")
        if self.input_dim != PIXELS or type(self.input_dim) is not int:
            raise ConfigError(f"input_dim must be {PIXELS} (MNIST's {IMAGE_SIDE}×{IMAGE_SIDE} pixels)")
        for name, top in (("hidden_dim", MAX_HIDDEN_DIM), ("latent_dim", MAX_LATENT_DIM)):
            value = getattr(self, name)
            # type(), not isinstance: True is an int to Python, and 3.0 or "3" would pass int()
            if type(value) is not int or not 1 <= value <= top:
                raise ConfigError(f"{name} must be a whole number from 1 to {top}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class TrainConfig:
    """One training run. The defaults are pytorch/examples' recipe (10 epochs, batch 128, Adam 1e-3), but for
    the decoder's output bias, which starts at the mean training image."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    lr_schedule: str = "constant"
    beta: float = 1.0
    seed: int = 1
    snapshot_epochs: tuple[int, ...] = field(default=DEFAULT_SNAPSHOT_EPOCHS)
    # bf16: matrix products in bfloat16 (weights, optimizer and loss stay fp32); auto: bf16 where the
    # hardware multiplies bf16 natively (vae/train_step.py), since it learns as well, faster.
    precision: str = "auto"
    # data-mean: the decoder starts at the mean training image (vae/model.py, start_at_mean_image);
    # torch-default: PyTorch's random init, as pytorch/examples.
    output_bias_init: str = "data-mean"

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise ConfigError("epochs must be >= 0")
        if self.batch_size < 1:
            raise ConfigError("batch size must be >= 1")
        if not self.lr > 0:
            raise ConfigError("learning rate must be > 0")
        if self.beta < 0:
            raise ConfigError("beta must be >= 0")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr schedule must be one of {LR_SCHEDULES}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}")
        if self.output_bias_init not in OUTPUT_BIAS_INITS:
            raise ConfigError(f"output bias init must be one of {OUTPUT_BIAS_INITS}")
        object.__setattr__(self, "snapshot_epochs", tuple(sorted({int(e) for e in self.snapshot_epochs})))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["snapshot_epochs"] = list(self.snapshot_epochs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["snapshot_epochs"] = tuple(data.get("snapshot_epochs", ()))
        data.setdefault("output_bias_init", "torch-default")  # checkpoints from before the choice existed
        return _from_dict(cls, data)
