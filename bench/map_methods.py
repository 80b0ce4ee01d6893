"""Which 2-D map to build in the background for a model trained in the app: time and 10-NN accuracy.

The shipped maps are scikit-learn t-SNE (vae/atlas.py): about a minute for the 10,000 test means on
two cores, too slow to wait for after a 10-second training. Candidates, on the μ of a checkpoint:

- UMAP (umap-learn) with about 200 optimisation epochs;
- PaCMAP with its default three-phase schedule (100 + 100 + 250 iterations) and a shorter one;
- openTSNE (FFT-accelerated t-SNE) with fewer iterations than its 250 + 500 default.

Each method runs in its own fresh process: "cold" is its first map there (imports, numba's JIT
compilation on first call), "warm" the best of the following ones, as a server that warmed the method
once at start-up would see. Threads are capped at 2 (this machine's cores). The quality measure is the
leave-one-out 10-nearest-neighbour accuracy of the digit labels in the 2-D map (≥ 0.95 required),
beside the same number for the shipped t-SNE map and for the d-dimensional means themselves.

Candidates not chosen are bench-only (requirements-bench.txt):

    pip install -r requirements-bench.txt
    VAE_DATA_DIR=~/.cache/vae-latent-explorer/data python bench/map_methods.py --repeat 3

The table is appended to bench/results/map_methods-<date>-<cpu>.txt (bench/results.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402

THREADS = "2"


def umap_map(points: np.ndarray, seed: int, epochs: int = 200) -> np.ndarray:
    import umap

    # No random_state: with one, umap-learn runs single-threaded. The seed still fixes the init.
    reducer = umap.UMAP(n_neighbors=15, min_dist=0.1, n_epochs=epochs, n_jobs=int(THREADS), init="spectral")
    return reducer.fit_transform(points).astype(np.float32)


def pacmap_map(points: np.ndarray, seed: int, iters: tuple[int, int, int] = (100, 100, 250)) -> np.ndarray:
    import pacmap

    reducer = pacmap.PaCMAP(n_components=2, n_neighbors=10, num_iters=iters, random_state=seed)
    return reducer.fit_transform(points, init="pca").astype(np.float32)


def opentsne_map(points: np.ndarray, seed: int, early: int = 125, late: int = 250) -> np.ndarray:
    from openTSNE import TSNE

    tsne = TSNE(
        perplexity=30,
        early_exaggeration_iter=early,
        n_iter=late,
        n_jobs=int(THREADS),
        random_state=seed,
        neighbors="annoy",
        negative_gradient_method="fft",
    )
    return np.asarray(tsne.fit(points), dtype=np.float32)


def fast_map(points: np.ndarray, seed: int) -> np.ndarray:
    from vae.quick_map import quick_map_2d

    return quick_map_2d(points, seed)


METHODS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "umap-200": umap_map,
    "pacmap-450": pacmap_map,
    "pacmap-250": lambda p, s: pacmap_map(p, s, (50, 50, 150)),
    "opentsne-375": opentsne_map,
    "opentsne-200": lambda p, s: opentsne_map(p, s, 75, 125),
    "opentsne-120": lambda p, s: opentsne_map(p, s, 50, 70),
    "chosen: vae.quick_map": fast_map,
}


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Leave-one-out: the share of points whose k nearest others mostly carry their own label."""
    from sklearn.neighbors import NearestNeighbors

    _, index = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    votes = labels[index[:, 1:]]
    predicted = np.array([np.bincount(row, minlength=10).argmax() for row in votes])
    return float((predicted == labels).mean())


def test_means(checkpoint: Path) -> tuple[np.ndarray, np.ndarray]:
    from vae.checkpoint import load_checkpoint
    from vae.data import load_mnist
    from vae.latent import encode_all

    test = load_mnist("test", progress=lambda _: None)
    mu, _ = encode_all(load_checkpoint(checkpoint), test.images)
    return mu.numpy().astype(np.float32), test.labels.numpy()


def run_one(method: str, checkpoint: Path, repeat: int, seed: int) -> dict:
    """In this (fresh) process: the first map (cold), then `repeat - 1` more (warm)."""
    points, labels = test_means(checkpoint)
    seconds, cpu, accuracies = [], [], []
    for i in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        coords = METHODS[method](points, seed + i)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        accuracies.append(knn_accuracy(coords, labels))
    warm = seconds[1:] or [float("nan")]
    warm_cpu = cpu[1:] or [float("nan")]
    return {
        "method": method,
        "cold_s": seconds[0],
        "warm_s": min(warm),
        "warm_cpu_s": min(warm_cpu),
        "knn10": min(accuracies),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=REPO / "checkpoints" / "vae_d20.safetensors")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--repeat", type=int, default=3, help="maps per process: 1 cold + the rest warm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.checkpoint, args.repeat, args.seed)))
        return

    from vae.atlas import load_atlas

    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    points, labels = test_means(args.checkpoint)
    atlas = load_atlas(args.checkpoint)
    say(
        f"reference: 10-NN accuracy of the {points.shape[1]}-D means {knn_accuracy(points, labels):.4f}, "
        f"of the shipped t-SNE map {knn_accuracy(atlas.coords, labels):.4f}"
    )
    env = {**os.environ, "OMP_NUM_THREADS": THREADS, "NUMBA_NUM_THREADS": THREADS, "MKL_NUM_THREADS": THREADS}
    # On a shared machine the wall times grow with the load; the CPU seconds (both threads) much less.
    say(f"{'method':26s} {'cold s':>7s} {'warm s':>7s} {'cpu s':>7s} {'10-NN':>7s} {'load':>5s}")
    for method in args.methods:
        command = [sys.executable, __file__, "--child", method, "--repeat", str(args.repeat)]
        command += ["--checkpoint", str(args.checkpoint), "--seed", str(args.seed)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, check=False)
        if done.returncode != 0:
            say(f"{method:26s} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        say(
            f"{method:26s} {row['cold_s']:7.1f} {row['warm_s']:7.1f} {row['warm_cpu_s']:7.1f} {row['knn10']:7.4f} "
            f"{row['load']:5.1f}"
        )
    save("map_methods", "\n".join([f"checkpoint {args.checkpoint.name}, {args.repeat} maps per process", *lines]))


if __name__ == "__main__":
    main()
