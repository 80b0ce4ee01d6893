"""What a run keeps of its own training, so the app can replay it (the lecture's training figures).

A run file (rewritten by vae/training.py after every epoch) holds, besides the weights:
  panel.rows                  int64 [P]          test-set rows of the fixed panel (each digit first)
  panel.epochs                int32 [E]          the epochs recorded below: 0, 1, 2, … in a run file
  panel.recon                 uint8 [E, P, 784]  the panel's reconstructions (decoded means)
  panel.mu                    float16 [E, P, d]  the panel's codes: a morph between two of them at any epoch
  snapshot.<e>.mu | .logvar   float16 [N, d]     test-set codes at a snapshot epoch (the maps over training)
  snapshot.<e>.weight.<name>  float16            every weight at a snapshot epoch

A shipped copy (`vae export`, `shipped_records`) keeps what the views need within the size budget:
the decoder of each snapshot but the last (the last is the model itself), its matrices quantised to
int8 per output row (`snapshot.<e>.q8.<name>` int8 and `snapshot.<e>.scale.<name>` float16), its biases
in float16; the panel at epochs 0–10 and at every square epoch (evenly spaced on the √-epoch axis)
and snapshot epoch; test-set codes only for d ≤ 2 (the plane's bubbles, 40 kB each). The maps of the
other snapshots live in the atlas (vae/atlas.py), built from the run file.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vae.latent import decode_to_uint8, encode_all
from vae.model import LatentModel

PANEL_SIZE = 16
SHIPPED_CODES_MAX_DIM = 2
RECORD_PREFIXES: tuple[str, ...] = ("snapshot.", "panel.")


def is_record(name: str) -> bool:
    """A tensor of the training record (kept by resume and export), not a weight, optimizer or RNG state."""
    return name.startswith(RECORD_PREFIXES)


def panel_rows(labels: torch.Tensor, size: int = PANEL_SIZE) -> torch.Tensor:
    """The first test image of each digit 0–9, then the second of 0, 1, …: every digit is in the panel."""
    labels = labels.cpu()
    rows: list[int] = []
    taken: set[int] = set()
    while len(rows) < size:
        before = len(rows)
        for digit in range(10):
            candidates = [int(i) for i in torch.nonzero(labels == digit).flatten() if int(i) not in taken]
            if candidates and len(rows) < size:
                rows.append(candidates[0])
                taken.add(candidates[0])
        if len(rows) == before:  # fewer images than the panel: keep what there is
            break
    return torch.tensor(rows, dtype=torch.int64)


def snapshot_epochs(record: dict[str, torch.Tensor], suffix: str) -> list[int]:
    """Epochs that have a `snapshot.<e>.<suffix>…` tensor."""
    names = [k.split(".", 2) for k in record if k.startswith("snapshot.")]
    return sorted({int(epoch) for _, epoch, rest in names if rest.startswith(suffix)})


# ---------------------------------------------------------------- recording while training


@torch.no_grad()
def record_panel(record: dict[str, torch.Tensor], model: LatentModel, panel: torch.Tensor, epoch: int) -> None:
    """Append this epoch's panel reconstructions (uint8) and codes (float16)."""
    was_training = model.training
    model.eval()
    mu, _ = model.encode(panel)
    recon = decode_to_uint8(model, mu).reshape(len(panel), -1)
    model.train(was_training)
    rows = {
        "panel.epochs": torch.tensor([epoch], dtype=torch.int32),
        "panel.recon": recon[None],
        "panel.mu": mu.half().cpu()[None],
    }
    for name, value in rows.items():
        record[name] = torch.cat((record[name], value)) if name in record else value


def record_snapshot(record: dict[str, torch.Tensor], model: LatentModel, test_images: torch.Tensor, epoch: int) -> None:
    """Test-set codes and every weight at a snapshot epoch, in float16."""
    mu, logvar = encode_all(model, test_images)
    record[f"snapshot.{epoch}.mu"] = mu.half().cpu()
    if logvar is not None:
        record[f"snapshot.{epoch}.logvar"] = logvar.half().cpu()
    for name, value in model.state_dict().items():
        record[f"snapshot.{epoch}.weight.{name}"] = value.detach().to("cpu", torch.float16, copy=True)


# ---------------------------------------------------------------- the shipped copy


def quantise_rows(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """int8 per output row: each row scaled so its largest magnitude is 127."""
    matrix = matrix.float()
    scale = (matrix.abs().amax(dim=1, keepdim=True) / 127.0).clamp_min(1e-12)
    scale = scale.half()  # stored in float16: quantise against the scale as it will be read
    q = torch.round(matrix / scale.float()).clamp(-127, 127).to(torch.int8)
    return q, scale.flatten()


def dequantise_rows(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return q.float() * scale.float()[:, None]


def shipped_panel_epochs(epochs: list[int], snapshots: list[int]) -> list[int]:
    """0–10, every square epoch (evenly spaced on the √ axis), the snapshot epochs and the last."""
    last = max(epochs, default=0)
    return [e for e in epochs if e <= 10 or math.isqrt(e) ** 2 == e or e in snapshots or e == last]


def shipped_records(tensors: dict[str, torch.Tensor], latent_dim: int) -> dict[str, torch.Tensor]:
    """The training record of a run file, cut to the shipped copy's budget (see the module docstring)."""
    out: dict[str, torch.Tensor] = {}
    weighted = snapshot_epochs(tensors, "weight.")
    coded = snapshot_epochs(tensors, "mu")
    last = max(weighted + coded, default=None)
    for epoch in weighted:
        if epoch == last:
            continue  # the model's own weights, in float16
        for name in [k for k in tensors if k.startswith(f"snapshot.{epoch}.weight.decoder.")]:
            param = name.removeprefix(f"snapshot.{epoch}.weight.")
            value = tensors[name]
            if value.dim() == 2:
                out[f"snapshot.{epoch}.q8.{param}"], out[f"snapshot.{epoch}.scale.{param}"] = quantise_rows(value)
            else:
                out[name] = value.half()
    if latent_dim <= SHIPPED_CODES_MAX_DIM:
        out.update({k: v for k, v in tensors.items() if k.startswith("snapshot.") and k.endswith((".mu", ".logvar"))})
    if "panel.epochs" in tensors:
        epochs = tensors["panel.epochs"].tolist()
        keep = set(shipped_panel_epochs(epochs, weighted + coded))
        index = torch.tensor([i for i, e in enumerate(epochs) if e in keep], dtype=torch.int64)
        out["panel.rows"] = tensors["panel.rows"]
        for name in ("panel.epochs", "panel.recon", "panel.mu"):
            out[name] = tensors[name].index_select(0, index)
    # Records of another kind (a shipped copy exported again) pass unchanged.
    out.update({k: v for k, v in tensors.items() if is_record(k) and (".q8." in k or ".scale." in k)})
    return out


# ---------------------------------------------------------------- reading it back


@dataclass(frozen=True)
class TrainingRecord:
    """A checkpoint's record of its training, as the views read it (numpy, float32 codes)."""

    panel_rows: np.ndarray  # int64 [P]
    panel_epochs: np.ndarray  # int64 [E]
    panel_recon: np.ndarray  # uint8 [E, P, 784]
    panel_mu: np.ndarray  # float32 [E, P, d]
    weight_epochs: tuple[int, ...]  # epochs whose decoder is known (the last: the model's own)
    codes: dict[int, tuple[np.ndarray, np.ndarray | None]]  # epoch → test-set μ, log σ² (d ≤ 2 when shipped)

    def panel_at(self, epoch: int) -> int:
        """Index of the recorded panel epoch nearest to `epoch`, at or before it."""
        before = np.flatnonzero(self.panel_epochs <= epoch)
        return int(before[-1]) if len(before) else 0


def read_record(tensors: dict[str, torch.Tensor], last_epoch: int) -> TrainingRecord | None:
    """The record in a checkpoint's tensors, or None when it has no panel (files from before this record)."""
    if "panel.epochs" not in tensors:
        return None
    decoder_epochs = set(snapshot_epochs(tensors, "weight.decoder.")) | set(snapshot_epochs(tensors, "q8.decoder."))
    codes = {
        epoch: (
            tensors[f"snapshot.{epoch}.mu"].float().numpy(),
            tensors[f"snapshot.{epoch}.logvar"].float().numpy() if f"snapshot.{epoch}.logvar" in tensors else None,
        )
        for epoch in snapshot_epochs(tensors, "mu")
    }
    return TrainingRecord(
        panel_rows=tensors["panel.rows"].numpy().astype(np.int64),
        panel_epochs=tensors["panel.epochs"].numpy().astype(np.int64),
        panel_recon=tensors["panel.recon"].numpy(),
        panel_mu=tensors["panel.mu"].float().numpy(),
        weight_epochs=tuple(sorted(decoder_epochs | {last_epoch})),
        codes=codes,
    )


def decoder_weights(tensors: dict[str, torch.Tensor], epoch: int) -> dict[str, torch.Tensor]:
    """The decoder's float32 weights at a snapshot epoch, from either form (float16 or int8 rows)."""
    weights: dict[str, torch.Tensor] = {}
    for name, value in tensors.items():
        prefix = f"snapshot.{epoch}."
        if not name.startswith(prefix):
            continue
        kind, _, param = name.removeprefix(prefix).partition(".")
        if kind == "weight" and param.startswith("decoder."):
            weights[param] = value.float()
        elif kind == "q8":
            weights[param] = dequantise_rows(value, tensors[f"{prefix}scale.{param}"])
    return weights


class EncoderNotKept(RuntimeError):
    """A model at an earlier epoch has only its decoder: encoding with it would mix two epochs."""


def model_at_epoch(model: LatentModel, tensors: dict[str, torch.Tensor], epoch: int) -> LatentModel:
    """A copy of `model` whose decoder is the one it had at `epoch` (a snapshot epoch); its encoder
    refuses to run unless the record kept it too."""
    weights = decoder_weights(tensors, epoch)
    if not weights:
        raise KeyError(f"no decoder weights recorded at epoch {epoch}")
    at_epoch = copy.deepcopy(model).eval()
    state: dict[str, Any] = {name: value for name, value in at_epoch.state_dict().items()}
    state.update(weights)
    encoder = {
        k[len(f"snapshot.{epoch}.weight.") :]: v.float()
        for k, v in tensors.items()
        if k.startswith(f"snapshot.{epoch}.weight.encoder.")
    }
    state.update(encoder)
    at_epoch.load_state_dict(state)
    if not encoder:

        def no_encoder(x: torch.Tensor) -> Any:
            raise EncoderNotKept(f"only the decoder of epoch {epoch} is kept")

        at_epoch.encode = no_encoder  # type: ignore[method-assign]
    at_epoch.epoch = epoch
    return at_epoch
