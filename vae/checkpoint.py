"""Checkpoints: safetensors weights (nothing executes on load) plus JSON metadata.

One file holds everything a run needs: tensors named `model.*` (the weights), `optim.*` and `rng.*`
(to resume exactly), `snapshot.<epoch>.*` and `panel.*` (the record of training, vae/snapshots.py). The metadata
stores the configs, epoch, metrics, data checksums, library versions and a SHA-256 of the weights,
so a flipped byte is caught on load rather than shown as a broken model.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
    # A copy, so the tensors keep this moment's weights while training goes on updating them in place.
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


# Bounds on what a file may claim, checked before anything is allocated. A shipped file's header is ~105 kB
# (its metadata ~90 kB, the history of 400 epochs at ~200 bytes each); a 5000-epoch run stays under 1 MB.
MAX_HEADER_BYTES = 4 << 20
MAX_META_BYTES = 2 << 20
MAX_META_STRING = 2048  # one text in the metadata (the longest shipped one, the reproduce command, is ~300)
MAX_TENSORS = 2048  # a shipped file holds ~80 (weights, snapshots, panel); a long run's optimizer state adds ~20
MAX_JSON_DEPTH = 8  # the header nests 3 deep, the metadata 4
MAX_INT_DIGITS = 19  # anything longer is no size, offset or epoch, only an attack on int()
MAX_MESSAGE = 200
# Bytes per element of every safetensors dtype; a model's own weights must be one of WEIGHT_DTYPES.
ITEM_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
WEIGHT_DTYPES = ("F16", "BF16", "F32")
UNREADABLE = "not a readable safetensors checkpoint (truncated, corrupt or another format)"
DAMAGED = "checkpoint metadata is damaged"
MISFIT = "weights do not fit the architecture in its metadata"


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with "…" (a long value is never echoed whole)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _problem(path: Path, what: str) -> CheckpointError:
    # The file's own name only: an upload sits in a server temporary folder that is nobody's business.
    return CheckpointError(clip(f"{clip(path.name, 60)}: {what}", MAX_MESSAGE))


@contextmanager
def _reading(path: Path, problem: str) -> Iterator[None]:
    """Whatever goes wrong inside (a hostile file can raise many types) becomes one CheckpointError line."""
    from safetensors import SafetensorError

    try:
        yield
    except CheckpointError as exc:
        raise _problem(path, f"{problem}: {exc}") from exc
    except RecursionError as exc:
        raise _problem(path, f"{problem}: nested too deeply") from exc
    except (
        KeyError, IndexError, OverflowError, TypeError, ValueError, RuntimeError, struct.error, OSError,
        SafetensorError,
    ) as exc:  # fmt: skip
        raise _problem(path, f"{problem} ({type(exc).__name__}: {clip(str(exc), MAX_MESSAGE)})") from exc


def _refuse_constant(name: str) -> None:
    raise CheckpointError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity
        raise CheckpointError(f"the number {clip(text, 20)} is too large")
    return value


def _short_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise CheckpointError(f"an integer of {len(text)} digits")
    return int(text)


def bounded_json(text: str, max_string: int) -> Any:
    """JSON with finite numbers, short integers, texts of at most `max_string` and MAX_JSON_DEPTH levels.

    Deeper nesting than Python's recursion limit raises RecursionError inside json (caught by the caller)."""
    value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_short_int)
    stack = [(value, 0)]
    while stack:  # a loop, not recursion: the depth is what is being checked
        item, depth = stack.pop()
        if isinstance(item, str) and len(item) > max_string:
            raise CheckpointError(f"a text of {len(item)} characters (at most {max_string})")
        if isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise CheckpointError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The safetensors header (8 bytes little-endian length, then JSON), bounded, and the data section's size."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise CheckpointError("shorter than a header")
        (length,) = struct.unpack("<Q", prefix)
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise CheckpointError(f"its header claims {length} bytes")
        header = bounded_json(handle.read(length).decode("utf-8"), MAX_META_BYTES)
    if not isinstance(header, dict):
        raise CheckpointError("its header is not a JSON object")
    return header, size - 8 - length


def _tensor_table(header: dict[str, Any], data_bytes: int) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Name → (dtype, shape) of every tensor, once each one's byte range is checked against the file.

    As safetensors requires, the ranges tile the data section exactly: no gap, no overlap (two names on the
    same bytes would make a small file load as many copies), nothing past the end.
    """
    entries = {name: entry for name, entry in header.items() if name != "__metadata__"}
    if len(entries) > MAX_TENSORS:
        raise CheckpointError(f"{len(entries)} tensors (at most {MAX_TENSORS})")
    table, ranges = {}, []
    for name, entry in entries.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(f"tensor {clip(name, 40)!r} is described wrongly")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in ITEM_BYTES:
            raise CheckpointError(f"tensor {clip(name, 40)!r} has an unknown dtype")
        # At most 8 dimensions: the product of a million claimed sizes would itself be a cost.
        if not isinstance(shape, list) or len(shape) > 8 or not isinstance(offsets, list) or len(offsets) != 2:
            raise CheckpointError(f"tensor {clip(name, 40)!r} is described wrongly")
        if any(type(n) is not int or n < 0 for n in [*shape, *offsets]):
            raise CheckpointError(f"tensor {clip(name, 40)!r} has a size that is not a whole number")
        if offsets[1] - offsets[0] != math.prod(shape) * ITEM_BYTES[dtype]:
            raise CheckpointError(f"tensor {clip(name, 40)!r} claims more or fewer bytes than it holds")
        table[name] = (dtype, tuple(shape))
        ranges.append(tuple(offsets))
    end = 0
    for start, stop in sorted(ranges):
        if start != end:
            raise CheckpointError("its tensors overlap or leave gaps")
        end = stop
    if end != data_bytes:
        raise CheckpointError(f"it holds {data_bytes} bytes of tensors where its header describes {end}")
    return table


def _parse_meta(header: dict[str, Any]) -> CheckpointMeta:
    extra = header.get("__metadata__")
    if not isinstance(extra, dict) or extra.get("format") != FORMAT:
        raise _NotOurs
    text = extra.get("meta")
    if not isinstance(text, str):
        raise CheckpointError("no 'meta' entry")
    return CheckpointMeta.from_dict(bounded_json(text, MAX_META_STRING))


class _NotOurs(Exception):
    """A safetensors file without our format tag (a model from elsewhere)."""


def _check_weights(table: dict[str, tuple[str, tuple[int, ...]]], meta: CheckpointMeta) -> None:
    """The weights a file holds against those its config implies: names, shapes and dtypes, from the header.

    The expected shapes come from the model built on the "meta" device, which allocates nothing."""
    with torch.device("meta"):
        expected = {MODEL_PREFIX + k: tuple(v.shape) for k, v in build_model(meta.model).state_dict().items()}
    held = {name: entry for name, entry in table.items() if name.startswith(MODEL_PREFIX)}
    for name in sorted(set(expected) ^ set(held)):
        raise CheckpointError(f"{'no' if name in expected else 'an extra'} tensor {clip(name, 40)!r}")
    for name, shape in expected.items():
        dtype, held_shape = held[name]
        if held_shape != shape:
            raise CheckpointError(f"{name} is {list(held_shape)}, the config implies {list(shape)}")
        if dtype not in WEIGHT_DTYPES:
            raise CheckpointError(f"{name} is {dtype}; weights must be {', '.join(WEIGHT_DTYPES)}")


def _open_checkpoint(path: Path, with_tensors: bool) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """The metadata (validated) and, when asked, the tensors; any problem raises CheckpointError.

    Everything the file claims (sizes, byte ranges, the model's dimensions, dtypes) is checked against its
    length and the limits of vae/config.py before a tensor is read, so its cost is known before it is paid.
    """
    from safetensors import safe_open

    if not path.is_file():
        raise _problem(path, "no such checkpoint file")
    with _reading(path, UNREADABLE):
        header, data_bytes = _read_header(path)
        table = _tensor_table(header, data_bytes)
    try:
        with _reading(path, DAMAGED):
            meta = _parse_meta(header)
    except _NotOurs:
        raise _problem(path, f"a safetensors file, but not a VAE explorer checkpoint (format {FORMAT!r})") from None
    with _reading(path, MISFIT):
        _check_weights(table, meta)
    tensors: dict[str, torch.Tensor] = {}
    if with_tensors:
        with _reading(path, UNREADABLE), safe_open(str(path), framework="pt", device="cpu") as handle:
            tensors = {name: handle.get_tensor(name) for name in table}
    return tensors, meta


def read_meta(path: str | Path) -> CheckpointMeta:
    """A checkpoint's typed metadata from its header alone: cheap enough for a picker on every rerun.
    (Loading the model runs the full checks of open_checkpoint, the digests included.)"""
    return _open_checkpoint(Path(path), with_tensors=False)[1]


def open_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """Read and validate a checkpoint file on the CPU; any problem raises CheckpointError."""
    path = Path(path)
    tensors, meta = _open_checkpoint(path, with_tensors=True)
    if tensors_digest(tensors) != meta.raw.get("weights_sha256"):
        raise _problem(path, "the weights do not match their recorded SHA-256 (file corrupted)")
    if state_digest(tensors) != meta.raw.get("state_sha256"):
        raise _problem(path, "the optimizer, RNG or snapshot data do not match their SHA-256 (corrupted)")
    for name, tensor in tensors.items():
        # A NaN or infinite weight would turn every picture of every view into NaN.
        if name.startswith(MODEL_PREFIX) and not bool(torch.isfinite(tensor).all()):
            raise _problem(path, f"{MISFIT}: {name} holds NaN or infinite values")
    return tensors, meta


def model_from_tensors(tensors: dict[str, torch.Tensor], meta: CheckpointMeta) -> LatentModel:
    """The model of checked tensors (from open_checkpoint), in float32."""
    model = build_model(meta.model)
    model.load_state_dict({k[len(MODEL_PREFIX) :]: v.float() for k, v in tensors.items() if k.startswith(MODEL_PREFIX)})
    return model


def load_checkpoint(path: str | Path | None = None, device: str | torch.device = "cpu") -> LatentModel:
    """The model in eval mode, with `.meta` (CheckpointMeta) and `.checkpoint_path` set.

    `path=None` loads the default model (vae_d20) from the checkpoint folder (vae/paths.py).
    """
    path = Path(path) if path is not None else default_checkpoint_path()
    tensors, meta = open_checkpoint(path)
    model = model_from_tensors(tensors, meta)
    model.meta = meta
    model.checkpoint_path = path
    return model.to(device).eval()


def export_checkpoint(src: str | Path, dst: str | Path, dtype: torch.dtype = torch.float16) -> dict[str, Any]:
    """A small copy for shipping: weights in `dtype`, the training record cut to what the views need
    (vae/snapshots.py: int8 decoders at the snapshot epochs, a thinned panel), optimizer and RNG dropped."""
    from vae.snapshots import shipped_records

    tensors, checked = open_checkpoint(src)
    kept = {k: v.to(dtype) for k, v in tensors.items() if k.startswith(MODEL_PREFIX)}
    kept.update(shipped_records(tensors, checked.model.latent_dim))
    meta = {k: v for k, v in checked.raw.items() if k not in ("optimizer", "weights_sha256", "state_sha256")}
    meta["weights_dtype"] = str(dtype).removeprefix("torch.")
    write_checkpoint(dst, kept, meta)
    return meta
