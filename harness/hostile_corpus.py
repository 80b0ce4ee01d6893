"""Hostile uploads, made on the spot (test tooling: no binary is committed): the files of issue 23.

Checkpoints that claim sizes they do not hold or that no view could use, headers and metadata built to
cost (huge lengths, deep JSON, non-finite and huge numbers, a 5 MB text), weights of odd dtypes or NaN;
images built to cost CPU (a page of thousands of dots for mark removal, a JPEG repeating a scan, animations
of many frames). `hostile_files(folder)` writes them all and says what each one is: tests/unit/test_hostile_uploads.py
reads each in a child process under limits, bench/upload_cost.py reports what each costs.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save

from vae.checkpoint import FORMAT, model_tensors, state_digest, tensors_digest
from vae.config import ModelConfig
from vae.model import build_model

MODEL = {"kind": "vae", "input_dim": 784, "hidden_dim": 16, "latent_dim": 3}


def small_tensors() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return model_tensors(build_model(ModelConfig(**MODEL)))


def checkpoint(tensors: dict[str, torch.Tensor] | None = None, meta_text: str | None = None, **meta: object) -> bytes:
    """A checkpoint as write_checkpoint makes it (digests right), with any metadata, or `meta_text` verbatim."""
    tensors = small_tensors() if tensors is None else tensors
    full = {"model": MODEL, "weights_sha256": tensors_digest(tensors), "state_sha256": state_digest(tensors), **meta}
    return save(tensors, metadata={"format": FORMAT, "meta": meta_text or json.dumps(full)})


def raw_safetensors(header: bytes, data: bytes = b"", length: int | None = None) -> bytes:
    """A file of any header bytes (and any claimed header length) followed by `data`."""
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def weights_as(dtype: torch.dtype) -> bytes:
    return checkpoint({k: v.to(dtype) for k, v in small_tensors().items()})


def nan_weights() -> bytes:
    tensors = small_tensors()
    tensors["model.decoder.2.bias"][3] = float("nan")
    return checkpoint(tensors)


def weights_of_input(pixels: int) -> bytes:
    """An honest small model of another input size (its weights fit its config)."""
    h, d = MODEL["hidden_dim"], MODEL["latent_dim"]
    shapes = {"encoder.0": (h, pixels), "encoder.2": (2 * d, h), "decoder.0": (h, d), "decoder.2": (pixels, h)}
    tensors = {f"model.{k}.weight": torch.zeros(s) for k, s in shapes.items()}
    tensors.update({f"model.{k}.bias": torch.zeros(s[0]) for k, s in shapes.items()})
    return checkpoint(tensors, model={**MODEL, "input_dim": pixels})


def claimed_shape(shape: list[int]) -> bytes:
    """The first layer's header claims `shape` while the data holds a few bytes."""
    header = {"model.encoder.0.weight": {"dtype": "F32", "shape": shape, "data_offsets": [0, 16]}}
    header["__metadata__"] = {"format": FORMAT, "meta": json.dumps({"model": MODEL})}
    return raw_safetensors(json.dumps(header).encode(), bytes(16))


def overlapping_tensors(copies: int) -> bytes:
    """Many names on the same 1 MB of bytes: loaded as given, a small file would become `copies` MB."""
    header = {f"t{i}": {"dtype": "U8", "shape": [2**20], "data_offsets": [0, 2**20]} for i in range(copies)}
    header["__metadata__"] = {"format": FORMAT, "meta": json.dumps({"model": MODEL})}
    return raw_safetensors(json.dumps(header).encode(), bytes(2**20))


def epoch_written_as(text: str) -> bytes:
    """Metadata whose epoch is `text` verbatim (json.dumps writes neither 1e999 nor a 5000-digit number)."""
    return checkpoint(meta_text=f'{{"model": {json.dumps(MODEL)}, "epoch": {text}}}')


def truncated() -> bytes:
    whole = checkpoint()
    return whole[: len(whole) // 2]


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def piece_join_bomb(side: int = 640, dot: int = 5, seed: int = 0) -> bytes:
    """A PNG (~14 kB) of a square outline and ~4,500 separate dots around it, each big enough to join it.

    Joined one piece at a time, it took 64 s of CPU (issue 23). The dots are scattered, not on a grid,
    so they are not taken for ruled lines."""
    rng = np.random.default_rng(seed)
    img = np.full((side, side), 255, np.uint8)
    c = side // 2
    img[c - 60 : c + 60, c - 60 : c + 60] = 0
    img[c - 57 : c + 57, c - 57 : c + 57] = 255
    taken = np.zeros((side, side), bool)
    taken[c - 62 : c + 62, c - 62 : c + 62] = True
    for y, x in rng.integers(2, side - dot - 2, size=(40_000, 2)):
        if not taken[y - 2 : y + dot + 2, x - 2 : x + dot + 2].any():
            taken[y : y + dot, x : x + dot] = True
            img[y : y + dot, x : x + dot] = 0
    return encode(Image.fromarray(img), "PNG", optimize=True)


def scan_bomb(size: tuple[int, int] = (4000, 3000), repeats: int = 20_000) -> bytes:
    """A progressive JPEG of a flat grey page whose last scan (26 bytes) is repeated: 0.57 MB, 143 s to decode."""
    whole = encode(Image.new("L", size, 128), "JPEG", progressive=True, quality=90)
    last, end = whole.rfind(b"\xff\xda"), whole.rfind(b"\xff\xd9")
    return whole[:end] + whole[last:end] * repeats + whole[end:]


def many_frames(fmt: str, frames: int) -> bytes:
    """An animation (GIF) or multi-page file (TIFF) of 1×1 frames, alternately black and white."""
    pictures = [Image.new("L", (1, 1), 255 * (i % 2)) for i in range(frames)]
    return encode(pictures[0], fmt, save_all=True, append_images=pictures[1:])


def encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


# name → (kind, what it does, how to make it)
HOSTILE: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "hidden_300000.safetensors": (
        "checkpoint",
        "claims hidden_dim 300000",
        lambda: checkpoint(model={**MODEL, "hidden_dim": 300_000}),
    ),
    "hidden_1e7.safetensors": (
        "checkpoint",
        "claims hidden_dim 10^7",
        lambda: checkpoint(model={**MODEL, "hidden_dim": 10**7}),
    ),
    "input_1e6.safetensors": (
        "checkpoint",
        "claims input_dim 10^6",
        lambda: checkpoint(model={**MODEL, "input_dim": 10**6}),
    ),
    "latent_1e5.safetensors": (
        "checkpoint",
        "claims latent_dim 10^5",
        lambda: checkpoint(model={**MODEL, "latent_dim": 10**5}),
    ),
    "input_10.safetensors": ("checkpoint", "an honest model of 10 inputs", lambda: weights_of_input(10)),
    "shape_claim.safetensors": ("checkpoint", "a tensor claims [10^6, 784]", lambda: claimed_shape([10**6, 784])),
    "header_2e63.safetensors": ("checkpoint", "header length 2^63", lambda: raw_safetensors(b"{}", length=2**63)),
    "header_past_end.safetensors": (
        "checkpoint",
        "header longer than the file",
        lambda: raw_safetensors(b"{}", length=10**6),
    ),
    "deep_header.safetensors": (
        "checkpoint",
        "200,000-deep header JSON",
        lambda: raw_safetensors(deep(200_000).encode()),
    ),
    "deep_meta.safetensors": ("checkpoint", "200,000-deep metadata JSON", lambda: checkpoint(meta_text=deep(200_000))),
    "epoch_infinity.safetensors": ("checkpoint", "epoch Infinity", lambda: checkpoint(epoch=float("inf"))),
    "epoch_1e999.safetensors": ("checkpoint", "epoch 1e999", lambda: epoch_written_as("1e999")),
    "epoch_huge_int.safetensors": ("checkpoint", "epoch of 5000 digits", lambda: epoch_written_as("9" * 5000)),
    "loss_nan.safetensors": (
        "checkpoint",
        "a NaN loss in the history",
        lambda: checkpoint(history=[{"epoch": 0, "train": {"recon": float("nan")}, "test": {"recon": 1.0}}]),
    ),
    "d_float.safetensors": ("checkpoint", "latent_dim 3.0", lambda: checkpoint(model={**MODEL, "latent_dim": 3.0})),
    "d_string.safetensors": ("checkpoint", 'latent_dim "3"', lambda: checkpoint(model={**MODEL, "latent_dim": "3"})),
    "d_bool.safetensors": ("checkpoint", "latent_dim true", lambda: checkpoint(model={**MODEL, "latent_dim": True})),
    "weights_bool.safetensors": ("checkpoint", "bool weights", lambda: weights_as(torch.bool)),
    "weights_int8.safetensors": ("checkpoint", "int8 weights", lambda: weights_as(torch.int8)),
    "weights_float64.safetensors": ("checkpoint", "float64 weights", lambda: weights_as(torch.float64)),
    "weights_nan.safetensors": ("checkpoint", "a NaN weight (digests right)", nan_weights),
    "wrong_shapes.safetensors": (
        "checkpoint",
        "weights of d = 3, config d = 5",
        lambda: checkpoint(model={**MODEL, "latent_dim": 5}),
    ),
    "truncated.safetensors": ("checkpoint", "the first half of a file", truncated),
    "meta_5mb.safetensors": ("checkpoint", "a 5 MB metadata text", lambda: checkpoint(note="x" * 5 * 2**20)),
    "meta_1mb.safetensors": ("checkpoint", "a 1 MB metadata text", lambda: checkpoint(note="x" * 2**20)),
    "overlap.safetensors": ("checkpoint", "2,000 names on one 1 MB range", lambda: overlapping_tensors(2000)),
    "dots.png": ("image", "4,500 separate dots (piece join)", piece_join_bomb),
    "scans.jpg": ("image", "a progressive JPEG of 20,000 scans", scan_bomb),
    "scans_99.jpg": ("image", "the same with 93 repeats (99 scans)", lambda: scan_bomb(repeats=93)),
    "frames.gif": ("image", "a GIF of 20,000 frames", lambda: many_frames("GIF", 20_000)),
    "pages.tif": ("image", "a TIFF of 2,000 pages", lambda: many_frames("TIFF", 2_000)),
}


def hostile_files(folder: Path, names: list[str] | None = None) -> dict[str, tuple[str, str, Path]]:
    """Write the named hostile files (default: all) into `folder`; name → (kind, what it is, path)."""
    written = {}
    for name in names or list(HOSTILE):
        kind, what, make = HOSTILE[name]
        path = folder / name
        path.write_bytes(make())
        written[name] = (kind, what, path)
    return written
