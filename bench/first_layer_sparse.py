"""Can MNIST's blank pixels make training faster? The first layer's two products, dense and sparse, side by side.

81 % of MNIST's pixels are 0, so the encoder's first layer needs only a fifth of its multiply-adds, both
forward (x·W1ᵀ) and in its weight gradient (xᵀ·dH1). These are the only exact savings in a step: the other
three large products see dense operands (the decoder's hidden layer and σ(logits) − x). Each way is timed
for one batch of shuffled training images, in a worker thread with 2 torch threads as the app trains:

- dense: MKL's sgemm, as vae/train_step.py does it;
- FBGEMM: `embedding_bag` with the pixels as weights, the batch's nonzeros listed image by image (forward)
  and pixel by pixel (weight gradient). Both lists are rebuilt for every batch, since every epoch shuffles
  the images: that building ("prep", numpy) is part of the cost;
- MKL CSR: torch's sparse CSR tensor, its build included.

It also prints the two cores' fp32 peak (cores × clock × 32 FLOP, AVX2's two 8-wide FMAs a cycle) beside
what sgemm reaches, and the floor this sets for 10 epochs of the lecture's model.

    VAE_DATA_DIR=~/.cache/vae-latent-explorer/data python bench/first_layer_sparse.py

The lines are appended to bench/results/first_layer_sparse-<date>-<cpu>.txt (bench/results.py).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import save
from vae.data import load_mnist

BATCH, HIDDEN, PIXELS = 256, 400, 784
# Multiply-adds of one image through the lecture's VAE (d = 20) in a training step: the forward products,
# the input gradients of all but the first layer, and the weight gradients of all four.
LAYERS = ((PIXELS, HIDDEN), (HIDDEN, 40), (20, HIDDEN), (HIDDEN, PIXELS))
MACS_PER_IMAGE = 3 * sum(i * o for i, o in LAYERS) - PIXELS * HIDDEN


def best_us(fn: Callable[[], object], repeats: int = 7, n: int = 40) -> float:
    """The fastest of `repeats` averages of `n` calls, in µs: the shared VM's slow spells left out."""
    fn()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - began) / n * 1e6)
    return min(times)


def clock_mhz() -> float | None:
    try:
        with open("/proc/cpuinfo") as info:
            values = [float(line.split(":")[1]) for line in info if line.startswith("cpu MHz")]
    except OSError:
        return None
    return statistics.median(values) if values else None


class SparseImages:
    """The training images' nonzeros, image by image (CSR), and the lists one batch needs."""

    def __init__(self, images: np.ndarray) -> None:
        nonzero = images != 0
        self.counts = nonzero.sum(1)
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1]))
        self.pixel = np.nonzero(nonzero)[1]
        self.value = images[nonzero]

    def by_image(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pixels, values, offsets, counts) of the batch's images, one after another."""
        counts = self.counts[ids]
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
        source = np.repeat(self.starts[ids] - offsets, counts) + np.arange(int(counts.sum()))
        return self.pixel[source], self.value[source], offsets, counts

    @staticmethod
    def by_pixel(pixels: np.ndarray, values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, ...]:
        """(rows in the batch, values, offsets) of the same nonzeros, pixel by pixel."""
        order = np.argsort(pixels.astype(np.int16), kind="stable")
        rows = np.repeat(np.arange(len(counts)), counts)[order]
        per_pixel = np.bincount(pixels, minlength=PIXELS)
        return rows, values[order], np.concatenate(([0], np.cumsum(per_pixel)[:-1]))


def measure(images: torch.Tensor, out: dict[str, float]) -> None:
    torch.set_num_threads(2)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randperm(len(images), generator=generator)[:BATCH]
    x = images[ids]
    w1t = torch.randn(PIXELS, HIDDEN, generator=generator) * 0.05  # W1ᵀ: a row per pixel
    d_h1 = torch.randn(BATCH, HIDDEN, generator=generator)
    sparse = SparseImages(images.numpy())
    ids_np = ids.numpy()

    def as_torch(*arrays: np.ndarray) -> list[torch.Tensor]:
        return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]

    def prep() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        pixels, values, offsets, counts = sparse.by_image(ids_np)
        return as_torch(pixels, values, offsets), as_torch(*SparseImages.by_pixel(pixels, values, counts))

    (pixels, values, offsets), (rows, values_p, offsets_p) = prep()
    forward = F.embedding_bag(pixels, w1t, offsets, mode="sum", per_sample_weights=values)
    gradient = F.embedding_bag(rows, d_h1, offsets_p, mode="sum", per_sample_weights=values_p)
    assert torch.allclose(forward, x @ w1t, atol=1e-4) and torch.allclose(gradient, x.t() @ d_h1, atol=1e-3)
    csr = x.to_sparse_csr()

    out["density"] = float((x != 0).float().mean())
    out["dense"] = best_us(lambda: x @ w1t) + best_us(lambda: x.t() @ d_h1)
    out["fbgemm products"] = best_us(
        lambda: F.embedding_bag(pixels, w1t, offsets, mode="sum", per_sample_weights=values)
    ) + best_us(lambda: F.embedding_bag(rows, d_h1, offsets_p, mode="sum", per_sample_weights=values_p))
    out["fbgemm prep"] = best_us(prep)
    out["csr products"] = best_us(lambda: csr @ w1t) + best_us(lambda: csr.t() @ d_h1)
    out["csr build"] = best_us(lambda: x.to_sparse_csr())
    a, b = torch.randn(1024, 1024, generator=generator), torch.randn(1024, 1024, generator=generator)
    out["sgemm GFLOP/s"] = 2 * 1024**3 / best_us(lambda: a @ b, n=10) / 1e3


def main() -> None:
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    images = load_mnist("train", progress=lambda _: None).images
    result: dict[str, float] = {}
    worker = threading.Thread(target=measure, args=(images, result))  # as the app trains: not the main thread
    worker.start()
    worker.join()
    lines: list[str] = []

    def say(line: str) -> None:
        print(line)
        lines.append(line)

    dense = result["dense"]
    say(f"one batch of {BATCH}: {result['density']:.1%} of its pixels are nonzero")
    say(f"  dense (MKL sgemm), forward + weight gradient  {dense:7.0f} µs  1.00×")
    fbgemm = result["fbgemm products"] + result["fbgemm prep"]
    say(
        f"  FBGEMM embedding_bag                          {fbgemm:7.0f} µs  {fbgemm / dense:.2f}×  "
        f"(products {result['fbgemm products']:.0f} µs, {result['fbgemm products'] / dense:.2f}×; "
        f"the batch's lists {result['fbgemm prep']:.0f} µs)"
    )
    csr = result["csr products"] + result["csr build"]
    say(
        f"  MKL CSR (torch.sparse_csr)                    {csr:7.0f} µs  {csr / dense:.2f}×  "
        f"(products {result['csr products']:.0f} µs, build {result['csr build']:.0f} µs)"
    )
    flops = 2 * MACS_PER_IMAGE * 60_000 * 10
    gemm = result["sgemm GFLOP/s"]
    mhz = clock_mhz()
    if mhz:
        peak = (os.cpu_count() or 1) * mhz * 32 / 1e3
        say(f"fp32 peak of {os.cpu_count()} cores at {mhz:.0f} MHz: {peak:.0f} GFLOP/s; sgemm 1024³ {gemm:.0f}")
    say(f"10 epochs of the lecture's VAE: {flops / 1e12:.2f} TFLOP, {flops / gemm / 1e9:.1f} s at sgemm's rate")
    save("first_layer_sparse", "\n".join(lines))


if __name__ == "__main__":
    main()
