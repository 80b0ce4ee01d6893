"""The quick map of a freshly trained model: exact neighbours, clusters kept apart, progress and stop."""

from __future__ import annotations

import numpy as np
import pytest

from vae.quick_map import exact_neighbours, quick_map_2d


def clusters(per: int = 40, dims: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(10, dims))
    labels = np.repeat(np.arange(10), per)
    return (centres[labels] + rng.normal(size=(len(labels), dims))).astype(np.float32), labels


def test_exact_neighbours_match_brute_force() -> None:
    points, _ = clusters(per=15)
    index, distance = exact_neighbours(points, 5, chunk=64)  # chunks smaller than the set
    full = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(full, np.inf)
    assert np.array_equal(np.sort(index, 1), np.sort(np.argsort(full, 1)[:, :5], 1))
    assert np.allclose(distance, np.sort(full, 1)[:, :5], atol=1e-3)


@pytest.mark.slow
def test_the_map_keeps_clusters_apart_and_reports_progress() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    points, labels = clusters()
    seen: list[float] = []
    coords = quick_map_2d(points, seed=1, progress=seen.append, threads=1)
    assert coords.shape == (400, 2) and coords.dtype == np.float32
    accuracy = KNeighborsClassifier(10).fit(coords[::2], labels[::2]).score(coords[1::2], labels[1::2])
    assert accuracy > 0.95
    assert seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.slow
def test_raising_from_progress_stops_the_map() -> None:
    points, _ = clusters(per=20)

    def stop(share: float) -> None:
        if share > 0.2:
            raise InterruptedError("cancelled")

    with pytest.raises(InterruptedError):
        quick_map_2d(points, progress=stop, threads=1)
