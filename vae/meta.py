"""A checkpoint's metadata, typed: parsed once when the file is opened, then read as attributes.

The JSON inside the file stays the wire format (older files lack some parts: the training config,
the history, the evaluation); `CheckpointMeta.from_dict` fills what is missing with None or empty
values and refuses what is malformed, so no reader meets a KeyError later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vae.config import ModelConfig, TrainConfig


def _part(name: str, parse: Callable[[Any], Any], value: Any) -> Any:
    """Parse one part of the metadata; a failure names the part (ValueError)."""
    try:
        return parse(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"its {name!r} part is malformed ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class LossTermsSummary:
    """Nats per image: reconstruction, KL and recon + β·KL."""

    recon: float
    kl: float
    total: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LossTermsSummary:
        recon, kl = float(data["recon"]), float(data.get("kl", 0.0))
        return cls(recon=recon, kl=kl, total=float(data.get("total", recon + kl)))


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train: LossTermsSummary
    test: LossTermsSummary
    seconds: float | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochRecord:
        seconds = data.get("seconds")
        return cls(
            epoch=int(data["epoch"]),
            train=LossTermsSummary.from_dict(data["train"]),
            test=LossTermsSummary.from_dict(data["test"]),
            seconds=float(seconds) if seconds is not None else None,
        )


@dataclass(frozen=True)
class Evaluation:
    """`vae evaluate` / `vae export` numbers on the test set, nats per image (vae/evaluate.py)."""

    images: int
    recon: float
    kl: float
    neg_elbo: float | None = None  # VAE only
    neg_elbo_k: float | None = None
    neg_iwae_k: float | None = None
    k: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        def optional(key: str, kind: type) -> Any:
            return kind(data[key]) if data.get(key) is not None else None

        return cls(
            images=int(data["images"]),
            recon=float(data["recon"]),
            kl=float(data.get("kl", 0.0)),
            neg_elbo=optional("neg_elbo", float),
            neg_elbo_k=optional("neg_elbo_k", float),
            neg_iwae_k=optional("neg_iwae_k", float),
            k=optional("k", int),
        )


@dataclass(frozen=True)
class CheckpointMeta:
    """Everything a checkpoint says about itself. `raw` is the JSON as read, for writing it back."""

    model: ModelConfig
    train: TrainConfig | None  # None in files written before the training config was stored
    epoch: int | None
    history: tuple[EpochRecord, ...]
    evaluation: Evaluation | None
    data_md5: dict[str, Any]
    device: str | None
    precision: str | None
    weights_dtype: str
    versions: dict[str, str]
    resumable: bool  # holds the optimizer state (an exported copy does not)
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def beta(self) -> float:
        """The KL weight it was trained with (1, the classic VAE, when the file does not say)."""
        return self.train.beta if self.train is not None else 1.0

    @property
    def last_epoch(self) -> EpochRecord | None:
        return self.history[-1] if self.history else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMeta:
        """Parse the JSON metadata; KeyError, TypeError or ValueError when a present part is malformed."""
        if not isinstance(data, dict):
            raise TypeError("metadata is not a JSON object")
        history = _part("history", lambda h: [EpochRecord.from_dict(entry) for entry in h], data.get("history") or ())
        epoch = data.get("epoch", history[-1].epoch if history else None)
        evaluation = _part("evaluation", Evaluation.from_dict, data["evaluation"]) if data.get("evaluation") else None
        return cls(
            model=_part("model", ModelConfig.from_dict, data["model"]),
            train=_part("train", TrainConfig.from_dict, data["train"]) if data.get("train") is not None else None,
            epoch=int(epoch) if epoch is not None else None,
            history=tuple(history),
            evaluation=evaluation,
            data_md5=dict(data.get("data_md5") or {}),
            device=data.get("device"),
            precision=data.get("precision"),
            weights_dtype=str(data.get("weights_dtype", "float32")),
            versions=dict(data.get("versions") or {}),
            resumable="optimizer" in data,
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON metadata as it was read (what write_checkpoint takes)."""
        return dict(self.raw)
