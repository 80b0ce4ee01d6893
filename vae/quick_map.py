"""A quick 2-D t-SNE of test-set codes, for a model trained a moment ago: seconds, not the minute of the
shipped maps' scikit-learn t-SNE (vae/atlas.py).

openTSNE's FFT-accelerated t-SNE with exact nearest neighbours (one matrix product per chunk, faster
than its approximate search at 10,000 points) and 75 + 125 iterations instead of 250 + 500. Chosen over
UMAP and PaCMAP by bench/map_methods.py: the same 10-nearest-neighbour accuracy as the shipped maps,
no numba compilation on the first call, and a callback that reports progress.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

EARLY_ITERATIONS = 75  # with exaggeration 12: the clusters form
LATE_ITERATIONS = 125  # without: they settle
PERPLEXITY = 30.0

Progress = Callable[[float], None]  # share done, 0..1; may raise to stop the map


def exact_neighbours(points: np.ndarray, k: int, chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of each point's k nearest others, by chunked matrix products."""
    x = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
    squares = (x * x).sum(1)
    indices, distances = [], []
    for start in range(0, len(x), chunk):
        rows = torch.arange(start, min(start + chunk, len(x)))
        d2 = squares[rows, None] - 2 * x[rows] @ x.T + squares[None]
        d2[torch.arange(len(rows)), rows] = float("inf")  # a point is not its own neighbour
        values, index = d2.topk(k, largest=False)
        indices.append(index)
        distances.append(values.clamp_min(0).sqrt())
    return torch.cat(indices).numpy(), torch.cat(distances).numpy().astype(np.float64)


def quick_map_2d(points: np.ndarray, seed: int = 0, progress: Progress | None = None, threads: int = 2) -> np.ndarray:
    """float32 [N, 2]: a t-SNE map of `points` [N, d]."""
    from openTSNE import TSNEEmbedding, affinity, initialization
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    points = np.asarray(points, dtype=np.float32)
    k = min(len(points) - 1, int(3 * PERPLEXITY))
    neighbours = PrecomputedNeighbors(*exact_neighbours(points, k))
    affinities = affinity.PerplexityBasedNN(perplexity=min(PERPLEXITY, k / 3), knn_index=neighbours, n_jobs=threads)
    total = EARLY_ITERATIONS + LATE_ITERATIONS
    done = [0]

    def report(iteration: int, error: float, embedding: np.ndarray) -> bool:
        done[0] += 5
        if progress is not None:
            progress(min(done[0], total) / total)
        return False  # keep going (True would stop openTSNE)

    embedding = TSNEEmbedding(
        initialization.pca(points, random_state=seed),
        affinities,
        n_jobs=threads,
        negative_gradient_method="fft",
        random_state=seed,
    )
    embedding = embedding.optimize(
        EARLY_ITERATIONS, exaggeration=12, momentum=0.5, callbacks=report, callbacks_every_iters=5
    )
    embedding = embedding.optimize(LATE_ITERATIONS, momentum=0.8, callbacks=report, callbacks_every_iters=5)
    return np.asarray(embedding, dtype=np.float32)


def warm_up() -> None:
    """Map 200 random points: a process's first map pays about 3 s for openTSNE's imports and first calls,
    which the app pays while its user is still choosing settings (explorer/service/jobs.py)."""
    quick_map_2d(np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32), threads=1)
