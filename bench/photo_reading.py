"""How well photos of digits are read: verdict accuracy on realistic photos vs their clean sources.

    VAE_DATA_DIR=~/.cache/vae-latent-explorer/data .venv/bin/python bench/photo_reading.py [--per-kind 30]

The photos are made by tests/photo_corpus.py from MNIST *training* digits (the model never saw them,
nor are they among the test codes that vote). For every kind the table gives how often the verdict
(vae.verdict: the vote of the 10 nearest test codes of the shipped default model) names the right
digit on the photo, on its clean source (same digit and size, black on white PNG) and on the raw
28×28 MNIST digit, and the server time per photo (decode + preprocess + encode + vote). Then the
hardest failures, and the cost of big uploads (a 50 MP phone JPEG, a 4000×4000 PNG): wall time and
peak memory above the process's baseline, each measured in a fresh subprocess.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vae.atlas import load_atlas  # noqa: E402
from vae.checkpoint import default_checkpoint_path, load_checkpoint  # noqa: E402
from vae.data import load_mnist  # noqa: E402
from vae.preprocess import InvalidImageError, image_to_mnist  # noqa: E402
from vae.verdict import read_digit  # noqa: E402

BIG_UPLOAD_CHILD = """
import io, resource, sys, time
sys.path.insert(0, {repo!r})
from vae.preprocess import image_to_mnist
from PIL import Image
data = open({path!r}, "rb").read()
small = io.BytesIO(); Image.new("L", (64, 64), 255).save(small, "PNG")
try:
    image_to_mnist(small.getvalue())
except ValueError:
    pass  # blank: only warms the imports
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter(); cpu = time.process_time()
image_to_mnist(data)
wall, used = time.perf_counter() - start, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(wall, used, (peak - base) / 1024)
"""


def read(model, atlas, data: bytes) -> tuple[int | None, float, float]:
    """The verdict's label (None when the image is refused), and the wall and CPU seconds it took."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        tensor = image_to_mnist(data)
        with torch.no_grad():
            mu, _ = model.encode(tensor.reshape(1, 784))
        label = read_digit(mu[0], atlas.mu, atlas.labels).label
    except InvalidImageError:
        label = None
    return label, time.perf_counter() - start, time.process_time() - cpu


def big_uploads(workdir: Path) -> list[tuple[str, float, float, float]]:
    """(name, wall s, CPU s, peak MB above baseline) for a 50 MP JPEG and a 4000×4000 PNG."""
    from PIL import Image, ImageDraw

    results = []
    for name, size, fmt in (
        ("50 MP phone JPEG (8192×6144)", (8192, 6144), "JPEG"),
        ("4000×4000 PNG", (4000, 4000), "PNG"),
    ):
        img = Image.new("RGB", size, (214, 208, 196))
        w, h = size
        ImageDraw.Draw(img).line(
            [(w * 0.4, h * 0.3), (w * 0.6, h * 0.3), (w * 0.45, h * 0.7)], fill=(30, 30, 40), width=w // 60
        )
        path = workdir / f"big.{fmt.lower()}"
        img.save(path, fmt, quality=90)
        del img
        child = BIG_UPLOAD_CHILD.format(repo=str(REPO), path=str(path))
        out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout.split()
        mb = path.stat().st_size / 2**20
        results.append((f"{name}, {mb:.1f} MB", float(out[0]), float(out[1]), float(out[2])))
        path.unlink()
    return results


def main() -> None:
    from photo_corpus import KINDS, corpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--failures", type=int, default=8, help="how many hardest failures to list")
    parser.add_argument("--no-big", action="store_true", help="skip the 50 MP / 4000×4000 timing")
    args = parser.parse_args()
    torch.set_num_threads(1)

    checkpoint = default_checkpoint_path()
    model = load_checkpoint(checkpoint)
    atlas = load_atlas(checkpoint)
    train = load_mnist("train", os.environ.get("VAE_DATA_DIR"), lambda _m: None)
    images = train.images.numpy().reshape(-1, 28, 28)
    labels = train.labels.numpy()

    rows: dict[str, list[tuple[bool, bool, bool, float, float]]] = {kind: [] for kind in KINDS}
    failures = []
    for photo in corpus(images, labels, args.per_kind, seed=args.seed):
        photo_label, seconds, cpu = read(model, atlas, photo.photo)
        clean_label, _, _ = read(model, atlas, photo.clean)
        with torch.no_grad():
            mu, _ = model.encode(torch.from_numpy(images[photo.index]).reshape(1, 784))
        raw_label = read_digit(mu[0], atlas.mu, atlas.labels).label
        ok = (photo_label == photo.label, clean_label == photo.label, raw_label == photo.label)
        rows[photo.kind].append((*ok, seconds, cpu))
        if not ok[0] and ok[1]:
            failures.append((photo.kind, photo.index, photo.label, photo_label))

    print(f"checkpoint {checkpoint.name}, {args.per_kind} photos per kind, seed {args.seed}\n")
    print(
        "| kind | photos | right on photo | right on clean | photo / clean | raw MNIST digit | ms per photo | CPU ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    totals = np.zeros(4)
    all_ms, all_cpu = [], []
    for kind, results in rows.items():
        array = np.array(results)
        photo, clean, raw = array[:, 0].mean(), array[:, 1].mean(), array[:, 2].mean()
        ms, cpu_ms = 1000 * np.median(array[:, 3]), 1000 * np.median(array[:, 4])
        all_ms += list(array[:, 3])
        all_cpu += list(array[:, 4])
        totals += [len(array), array[:, 0].sum(), array[:, 1].sum(), array[:, 2].sum()]
        ratio = photo / max(clean, 1e-9)
        print(
            f"| {kind} | {len(array)} | {photo:.0%} | {clean:.0%} | {ratio:.2f} | {raw:.0%} | {ms:.0f} | {cpu_ms:.0f} |"
        )
    n, photo, clean, raw = totals
    print(
        f"| **all** | {n:.0f} | {photo / n:.1%} | {clean / n:.1%} | {photo / max(clean, 1):.3f} | {raw / n:.1%} "
        f"| {1000 * np.median(all_ms):.0f} (p95 {1000 * np.percentile(all_ms, 95):.0f}) "
        f"| {1000 * np.median(all_cpu):.0f} (p95 {1000 * np.percentile(all_cpu, 95):.0f}) |"
    )
    print(f"\nHardest failures (photo misread, clean source read right), {len(failures)} in all:")
    for kind, index, label, got in failures[: args.failures]:
        print(f"- {kind}: training digit #{index}, a {label}, read as {'nothing' if got is None else got}")
    if not args.no_big:
        print("\n| big upload | wall s | CPU s | peak MB above baseline |\n|---|---:|---:|---:|")
        with tempfile.TemporaryDirectory() as workdir:
            for name, wall, cpu, mb in big_uploads(Path(workdir)):
                print(f"| {name} | {wall:.2f} | {cpu:.2f} | {mb:.0f} |")


if __name__ == "__main__":
    main()
