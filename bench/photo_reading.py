"""How well photos of digits are read: verdict accuracy on realistic photos vs their clean sources.

    VAE_DATA_DIR=~/.cache/vae-latent-explorer/data .venv/bin/python bench/photo_reading.py [--per-kind 30]

The photos are made by harness/photos.py from MNIST *training* digits (the model never saw them,
nor are they among the test codes that vote). For every kind the table gives how often the verdict
(vae.verdict: the vote of the 10 nearest test codes of the shipped default model) names the right
digit on the photo, on its clean source (same digit and size, black on white PNG) and on the raw
28×28 MNIST digit, and the server time per photo (decode + preprocess + encode + vote). Then the
hardest failures, and the cost of big uploads (a 50 MP phone JPEG, a 4000×4000 PNG): wall time and
peak memory above the process's baseline, each measured in a fresh subprocess.
The tables are appended to bench/results/photo_reading-<date>-<cpu>.txt (bench/results.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.results import save  # noqa: E402
from vae.atlas import load_atlas  # noqa: E402
from vae.checkpoint import default_checkpoint_path, load_checkpoint  # noqa: E402
from vae.data import load_mnist  # noqa: E402
from vae.preprocess import InvalidImageError, image_to_mnist  # noqa: E402
from vae.verdict import read_digit  # noqa: E402


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
    """(name, wall s, CPU s, peak MB above baseline) for big uploads: phone-size JPEGs with sensor-like
    grain (so the files are as large as a phone's), and PNGs decoded at full size."""
    from PIL import Image, ImageDraw

    from harness.upload_cost import upload_cost

    rng = np.random.default_rng(0)
    results = []
    uploads = [
        ("50 MP phone JPEG (8192×6144), grainy", (8192, 6144), "JPEG", 12),
        ("12 MP phone JPEG (4032×3024), grainy", (4032, 3024), "JPEG", 12),
        ("4000×4000 PNG", (4000, 4000), "PNG", 0),
    ]
    try:  # HEIC needs an encoder to write one: pillow-heif (the app itself only decodes, with pi-heif)
        import pillow_heif

        pillow_heif.register_heif_opener()
        uploads.append(("12 MP phone HEIC (4032×3024), grainy", (4032, 3024), "HEIF", 12))
    except ImportError:
        print("(no HEIC row: pip install pillow-heif to write one)")
    for name, size, fmt, grain in uploads:
        img = Image.new("RGB", size, (214, 208, 196))
        w, h = size
        ImageDraw.Draw(img).line(
            [(w * 0.4, h * 0.3), (w * 0.6, h * 0.3), (w * 0.45, h * 0.7)], fill=(30, 30, 40), width=w // 60
        )
        if grain:
            pixels = np.asarray(img, dtype=np.int16) + rng.integers(-grain, grain + 1, (h, w, 3), dtype=np.int16)
            img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            del pixels
        path = workdir / f"big.{fmt.lower()}"
        img.save(path, fmt, quality=80 if fmt == "HEIF" else 92)
        del img
        mb = path.stat().st_size / 2**20
        results.append((f"{name}, {mb:.1f} MB", *upload_cost(path)))
        path.unlink()
    return results


def main() -> None:
    from harness.photos import KINDS, corpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--failures", type=int, default=8, help="how many hardest failures to list")
    parser.add_argument("--no-big", action="store_true", help="skip the 50 MP / 4000×4000 timing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

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
        if not ok[0]:
            failures.append((not ok[1], photo.kind, photo.index, photo.label, photo_label, clean_label))

    say(f"checkpoint {checkpoint.name}, {args.per_kind} photos per kind, seed {args.seed}\n")
    say("| kind | photos | right on photo | right on clean | photo / clean | raw MNIST digit | ms per photo | CPU ms |")
    say("|---|---:|---:|---:|---:|---:|---:|---:|")
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
        say(
            f"| {kind} | {len(array)} | {photo:.0%} | {clean:.0%} | {ratio:.2f} | {raw:.0%} | {ms:.0f} | {cpu_ms:.0f} |"
        )
    n, photo, clean, raw = totals
    say(
        f"| **all** | {n:.0f} | {photo / n:.1%} | {clean / n:.1%} | {photo / max(clean, 1):.3f} | {raw / n:.1%} "
        f"| {1000 * np.median(all_ms):.0f} (p95 {1000 * np.percentile(all_ms, 95):.0f}) "
        f"| {1000 * np.median(all_cpu):.0f} (p95 {1000 * np.percentile(all_cpu, 95):.0f}) |"
    )
    failures.sort()  # the hardest first: photos misread although their clean source was read right
    lost = sum(1 for clean_wrong, *_ in failures if not clean_wrong)
    say(f"\nPhotos misread: {len(failures)}; of those, {lost} whose clean source was read right. The first:")
    for clean_wrong, kind, index, label, got, clean_got in failures[: args.failures]:
        clean = f"clean source also read as {clean_got}" if clean_wrong else "clean source read right"
        say(f"- {kind}: training digit #{index}, a {label}, read as {'nothing' if got is None else got} ({clean})")
    if not args.no_big:
        say("\n| big upload | wall s | CPU s | peak MB above baseline |\n|---|---:|---:|---:|")
        with tempfile.TemporaryDirectory() as workdir:
            for name, wall, cpu, mb in big_uploads(Path(workdir)):
                say(f"| {name} | {wall:.2f} | {cpu:.2f} | {mb:.0f} |")
    save("photo_reading", "\n".join(lines))


if __name__ == "__main__":
    main()
