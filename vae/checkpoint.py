"""Checkpoints: safetensors weights (nothing executes on load) plus JSON metadata.

One file holds everything a run needs: tensors named `model.*` (the weights), `optim.*` and `rng.*`
(to resume exactly), `snapshot.<epoch>.*` and `panel.*` (the record of training, vae/snapshots.py). The metadata
stores the configs, epoch, metrics, data checksums, library versions and a SHA-256 of the weights,
so a flipped byte is caught on load rather than shown as a broken model.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import torch

from vae.meta import CheckpointMeta
from vae.model import LatentModel, build_model
from vae.paths import checkpoint_dir, checkpoint_dir_hint

FORMAT = "vae-latent-explorer/1"
DEFAULT_CHECKPOINT_NAME = "vae_d20.safetensors"
MODEL_PREFIX = "model."


class CheckpointError(Exception):
    """A checkpoint that cannot be loaded; the message names the file and what is wrong."""


def __getattr__(name: str) -> Any:
    """`CHECKPOINT_DIR`, looked up on each use (vae/paths.py), so the environment is read when it matters."""
    if name == "CHECKPOINT_DIR":
        return checkpoint_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_checkpoint_path() -> Path:
    """The shipped default model; CheckpointError, saying how to point at one, when it is not there."""
    path = checkpoint_dir() / DEFAULT_CHECKPOINT_NAME
    if not path.is_file():
        raise CheckpointError(f"no checkpoint given and the default {path} does not exist: {checkpoint_dir_hint()}")
    return path


def library_versions() -> dict[str, str]:
    import numpy
    import safetensors

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "safetensors": safetensors.__version__,
    }


def tensors_digest(tensors: dict[str, torch.Tensor], names: list[str] | None = None) -> str:
    """SHA-256 over the named tensors (default: the model's) in name order: names, dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    names = names if names is not None else [k for k in tensors if k.startswith(MODEL_PREFIX)]
    for name in sorted(names):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def state_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of everything but the weights (optimizer, RNG, snapshots): a resume needs them intact too."""
    return tensors_digest(tensors, [k for k in tensors if not k.startswith(MODEL_PREFIX)])


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_tensors(model: LatentModel, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    # A copy: while training, the parameters are views of one flat buffer (vae/train_step.py).
    return {MODEL_PREFIX + k: v.detach().to("cpu", dtype, copy=True) for k, v in model.state_dict().items()}


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, payload: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename: a kill leaves the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Atomically write tensors and metadata; `meta` must hold at least the model config."""
    from safetensors.torch import save

    meta = dict(meta)
    meta["weights_sha256"] = tensors_digest(tensors)
    meta["state_sha256"] = state_digest(tensors)
    meta.setdefault("versions", library_versions())
    cpu_tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    payload = save(cpu_tensors, metadata={"format": FORMAT, "meta": json.dumps(meta, sort_keys=True)})
    atomic_write_bytes(path, payload)


def _open_checkpoint(path: Path, with_tensors: bool) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """The metadata (validated) and, when asked, the tensors; any problem raises CheckpointError."""
    from safetensors import safe_open

    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            header = handle.metadata() or {}
            names = handle.keys() if with_tensors else []
            tensors = {name: handle.get_tensor(name) for name in names}
    except Exception as exc:  # safetensors raises several types for a bad header or short file
        raise CheckpointError(
            f"{path}: not a readable safetensors checkpoint (truncated, corrupt or another format): {exc}"
        ) from exc
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a VAE explorer checkpoint (format {FORMAT!r})")
    try:
        meta = CheckpointMeta.from_dict(json.loads(header["meta"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: checkpoint metadata is damaged: {exc}") from exc
    return tensors, meta


def read_meta(path: str | Path) -> CheckpointMeta:
    """A checkpoint's typed metadata from its header alone: cheap enough for a picker on every rerun.
    (Loading the model runs the full checks of open_checkpoint, the digests included.)"""
    return _open_checkpoint(Path(path), with_tensors=False)[1]


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata as its JSON dict (validated as read_meta does)."""
    return read_meta(path).to_dict()


def open_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """Read and validate a checkpoint file on the CPU; any problem raises CheckpointError."""
    path = Path(path)
    tensors, meta = _open_checkpoint(path, with_tensors=True)
    if tensors_digest(tensors) != meta.raw.get("weights_sha256"):
        raise CheckpointError(f"{path}: the weights do not match their recorded SHA-256 (file corrupted)")
    # The shipped checkpoints were exported before this second digest existed: check it where present.
    if "state_sha256" in meta.raw and state_digest(tensors) != meta.raw["state_sha256"]:
        raise CheckpointError(f"{path}: the optimizer, RNG or snapshot data do not match their SHA-256 (corrupted)")
    return tensors, meta


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """open_checkpoint with the metadata as its JSON dict."""
    tensors, meta = open_checkpoint(path)
    return tensors, meta.to_dict()


def model_from_tensors(
    tensors: dict[str, torch.Tensor], meta: CheckpointMeta | dict[str, Any], path: str | Path = "<memory>"
) -> LatentModel:
    if isinstance(meta, dict):
        meta = CheckpointMeta.from_dict(meta)
    model = build_model(meta.model)
    state = {k[len(MODEL_PREFIX) :]: v.float() for k, v in tensors.items() if k.startswith(MODEL_PREFIX)}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit the architecture in its metadata: {first_line}") from exc
    return model


def load_checkpoint(path: str | Path | None = None, device: str | torch.device = "cpu") -> LatentModel:
    """The model in eval mode, with `.meta` (CheckpointMeta), `.metadata` (its JSON dict) and
    `.checkpoint_path` set.

    `path=None` loads the default model (vae_d20) from the checkpoint folder (vae/paths.py).
    """
    path = Path(path) if path is not None else default_checkpoint_path()
    tensors, meta = open_checkpoint(path)
    model = model_from_tensors(tensors, meta, path)
    model.meta = meta
    model.metadata = meta.to_dict()
    model.checkpoint_path = path
    return model.to(device).eval()


def export_checkpoint(src: str | Path, dst: str | Path, dtype: torch.dtype = torch.float16) -> dict[str, Any]:
    """A small copy for shipping: weights in `dtype`, the training record cut to what the views need
    (vae/snapshots.py: int8 decoders at the snapshot epochs, a thinned panel), optimizer and RNG dropped."""
    from vae.snapshots import shipped_records

    tensors, meta = read_checkpoint(src)
    kept = {k: v.to(dtype) for k, v in tensors.items() if k.startswith(MODEL_PREFIX)}
    kept.update(shipped_records(tensors, int(meta["model"]["latent_dim"])))
    meta = {k: v for k, v in meta.items() if k not in ("optimizer", "weights_sha256", "state_sha256")}
    meta["weights_dtype"] = str(dtype).removeprefix("torch.")
    write_checkpoint(dst, kept, meta)
    return meta
