"""The VAE's own likelihood as a novelty detector: the cut the Digit view uses (the 99.9th percentile of the
test digits' −ELBO, vae.scores.novelty_cut), how many of the 10,000 test digits it flags, and what it says
about blank pages, noise, text, object-like pictures and real digits (photos and clean images of MNIST
*training* digits, which no test code or cut has seen).

    VAE_DATA_DIR=~/.cache/vae-latent-explorer/data .venv/bin/python bench/novelty.py [--per-kind 4]

Writes bench/results/novelty-YYYY-MM-DD.txt. The "objects" are drawn here (a face, a cup, a key, a ball,
the camera's green test pattern, a checkerboard): stand-ins for photos of objects, not photographs.
"""

from __future__ import annotations

import argparse
import datetime
import io
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

from harness.photos import corpus  # noqa: E402
from vae.atlas import load_atlas  # noqa: E402
from vae.checkpoint import CHECKPOINT_DIR, load_checkpoint  # noqa: E402
from vae.data import load_mnist  # noqa: E402
from vae.preprocess import InvalidImageError, image_to_mnist  # noqa: E402
from vae.scores import novelty_cut, percentile_rank, score_images  # noqa: E402

SIZE = 400


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def canvas(colour=(245, 245, 240)) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (SIZE, SIZE), colour)
    return image, ImageDraw.Draw(image)


def non_digits(rng: np.random.Generator) -> dict[str, dict[str, bytes]]:
    kinds: dict[str, dict[str, bytes]] = {"blank": {}, "noise": {}, "text": {}, "objects": {}}
    image, _ = canvas()
    kinds["blank"]["white page"] = png(image)
    shade = np.linspace(150, 235, SIZE)[None, :, None] * np.ones((SIZE, 1, 3))
    kinds["blank"]["grey page, uneven light"] = jpeg(Image.fromarray(shade.astype(np.uint8)))
    kinds["blank"]["black frame"] = png(Image.new("L", (SIZE, SIZE), 0))
    kinds["noise"]["uniform noise"] = png(Image.fromarray(rng.integers(0, 256, (SIZE, SIZE), dtype=np.uint8)))
    gauss = np.clip(rng.normal(200, 40, (SIZE, SIZE)), 0, 255).astype(np.uint8)
    kinds["noise"]["light gaussian noise"] = jpeg(Image.fromarray(gauss))
    kinds["noise"]["salt and pepper"] = png(
        Image.fromarray(np.where(rng.random((SIZE, SIZE)) < 0.1, 0, 255).astype(np.uint8))
    )
    font = ImageFont.load_default(size=110)
    for word in ("hello", "VAE", "abc", "Hi!"):
        image, draw = canvas()
        draw.text((20, 130), word, fill=(10, 10, 10), font=font)
        kinds["text"][f"the word {word!r}"] = png(image)
    image, draw = canvas((120, 200, 120))  # the camera's green test pattern
    for x in range(0, SIZE, 50):
        draw.rectangle([x, 0, x + 24, SIZE], fill=(40, 160, 40))
    kinds["objects"]["green test pattern"] = jpeg(image)
    image, draw = canvas()
    draw.ellipse([80, 60, 320, 340], outline=(20, 20, 20), width=14)
    draw.ellipse([150, 150, 180, 180], fill=(20, 20, 20))
    draw.ellipse([230, 150, 260, 180], fill=(20, 20, 20))
    draw.arc([150, 200, 260, 290], 20, 160, fill=(20, 20, 20), width=12)
    kinds["objects"]["a face"] = jpeg(image)
    image, draw = canvas((200, 190, 170))
    draw.rectangle([120, 120, 260, 320], fill=(90, 60, 40))
    draw.arc([230, 160, 320, 260], -90, 90, fill=(90, 60, 40), width=18)
    kinds["objects"]["a cup"] = jpeg(image.filter(ImageFilter.GaussianBlur(2)))
    image, draw = canvas()
    draw.ellipse([60, 140, 180, 260], outline=(60, 60, 60), width=20)
    draw.rectangle([170, 185, 350, 215], fill=(60, 60, 60))
    draw.rectangle([300, 215, 320, 250], fill=(60, 60, 60))
    kinds["objects"]["a key"] = jpeg(image)
    image, draw = canvas((180, 200, 230))
    draw.ellipse([100, 100, 300, 300], fill=(200, 60, 40))
    kinds["objects"]["a ball"] = jpeg(image.filter(ImageFilter.GaussianBlur(3)))
    board = ((np.indices((SIZE, SIZE)) // 50).sum(0) % 2 * 255).astype(np.uint8)
    kinds["objects"]["checkerboard"] = png(Image.fromarray(board))
    return kinds


def real_digits(per_kind: int) -> dict[str, dict[str, bytes]]:
    train = load_mnist("train", allow_download=False)
    images, labels = train.images.numpy().reshape(-1, 28, 28), train.labels.numpy()
    photos, clean = {}, {}
    for photo in corpus(images, labels, per_kind, seed=25):
        photos[f"{photo.kind} #{photo.index} (a {photo.label})"] = photo.photo
        clean[f"#{photo.index} (a {photo.label})"] = photo.clean
    return {"real digits: photos": photos, "real digits: clean": clean}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-kind", type=int, default=4, help="photos of training digits per photo kind")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    groups = non_digits(rng) | real_digits(args.per_kind)
    lines = [f"# novelty cut, {datetime.date.today()}: bench/novelty.py --per-kind {args.per_kind}", ""]
    for name in ("vae_d20", "vae_d2"):
        path = CHECKPOINT_DIR / f"{name}.safetensors"
        model, atlas = load_checkpoint(path), load_atlas(path)
        test = atlas.scores.total
        lines.append(f"## {name}: test −ELBO median {np.median(test):.1f}, max {test.max():.1f} nats")
        for percentile in (99.0, 99.9, 100.0):
            cut = novelty_cut(test, percentile)
            lines.append(
                f"cut at the {percentile:g}th percentile: {cut.nats:.1f} nats, "
                f"flags {cut.flagged} of {cut.total:,} test digits"
            )
        cut = novelty_cut(test)
        for group, items in groups.items():
            flagged, refused, rows = 0, 0, []
            for label, data in items.items():
                try:
                    tensor = image_to_mnist(data)
                except InvalidImageError as exc:
                    refused += 1
                    rows.append(f"    {label}: refused before the model ({str(exc)[:60]})")
                    continue
                score = float(score_images(model, tensor).total[0])
                flagged += cut.flags(score)
                mark = "NOT A DIGIT" if cut.flags(score) else "digit"
                rows.append(f"    {label}: −ELBO {score:.0f}, percentile {percentile_rank(score, test):.2f}: {mark}")
            read = len(items) - refused
            lines.append(
                f"  {group}: {flagged} of {read} read flagged as not a digit ({refused} refused before the model)"
            )
            if not group.startswith("real digits") or flagged:
                lines += rows if not group.startswith("real digits") else [r for r in rows if "NOT" in r]
        lines.append("")
    text = "\n".join(lines)
    print(text)
    out = REPO / "bench" / "results" / f"novelty-{datetime.date.today()}.txt"
    out.write_text(text + "\n")
    print(f"written: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
