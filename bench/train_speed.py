"""Training speed of our trainer against pytorch/examples' vae/main.py, side by side in one run.

Both train the same model (784-400-20, batch 128, Adam 1e-3) on the same MNIST files on this
machine's CPU. The reference is not part of this repository: fetch pytorch/examples and pass its
vae/main.py with --reference. Its own train() and test() are timed per epoch through runpy, so its
code runs unmodified.

    python bench/train_speed.py --reference /path/to/examples/vae/main.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

REFERENCE_RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, runpy, sys, time
    import torch
    torch.set_num_threads({threads})
    sys.argv = ["main.py", "--epochs", "{epochs}", "--no-accel"]
    ns = runpy.run_path("{main}", run_name="reference")  # defines the model and loaders, trains nothing
    times, losses = [], []
    for epoch in range(1, {epochs} + 1):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            ns["train"](epoch)
        times.append(time.perf_counter() - started)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ns["test"](epoch)
        losses.append(float(out.getvalue().rsplit(":", 1)[1]))
    print(json.dumps({{"epoch_seconds": times, "test_loss": losses}}))
    """
)

OURS_RUNNER = textwrap.dedent(
    """
    import json, sys, torch
    torch.set_num_threads({threads})
    from vae.config import ModelConfig, TrainConfig
    from vae.data import load_mnist
    from vae.training import fit
    train, test = load_mnist("train", "{data}"), load_mnist("test", "{data}")
    config = TrainConfig(epochs={epochs}, precision="{precision}", lr_schedule="{schedule}")
    fit(ModelConfig(), config, train, test, "{out}", device="{device}", progress=False,
        log=lambda line: print(line, file=sys.stderr))
    from vae.checkpoint import read_checkpoint
    history = read_checkpoint("{out}")[1]["history"]
    print(json.dumps({{"epoch_seconds": [h["seconds"] for h in history],
                      "test_loss": [h["test"]["total"] for h in history]}}))
    """
)


def run_json(code: str, cwd: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, type=Path, help="pytorch/examples vae/main.py")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data", help="holds MNIST/raw (IDX files)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of our trainer (quality after these)")
    parser.add_argument("--reference-epochs", type=int, default=10, help="epochs of the reference")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["fp32-constant", "bf16-constant"],
        help="our runs as PRECISION-SCHEDULE (fp32|bf16, constant|cosine); constant is the reference's recipe",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "train_speed.json")
    args = parser.parse_args()

    from vae.data import ensure_mnist

    ensure_mnist(args.data_dir)  # both read these verified files; nothing is downloaded during timing
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        (work / "results").mkdir(parents=True)
        os.symlink(args.data_dir.resolve(), Path(tmp) / "data")  # the reference reads ../data
        reference = run_json(
            REFERENCE_RUNNER.format(threads=args.threads, epochs=args.reference_epochs, main=args.reference.resolve()),
            work,
        )
        ours = {
            variant: run_json(
                OURS_RUNNER.format(
                    threads=args.threads,
                    epochs=args.epochs,
                    data=args.data_dir.resolve(),
                    out=Path(tmp) / f"{variant}.st",
                    device=args.device,
                    precision=variant.split("-")[0],
                    schedule=variant.split("-")[1],
                ),
                REPO,
            )
            for variant in args.variants
        }
    ref_epoch = statistics.median(reference["epoch_seconds"])
    result = {
        "threads": args.threads,
        "device": args.device,
        "reference_epoch_seconds": reference["epoch_seconds"],
        "reference_test_loss": reference["test_loss"],
        "ours": ours,
        "speedup": {v: ref_epoch / statistics.median(r["epoch_seconds"]) for v, r in ours.items()},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    columns = ["pytorch/examples", *args.variants]
    width = max(len(c) for c in columns) + 2
    print(f"{'':30}" + "".join(f"{c:>{width}}" for c in columns))
    epoch_times = [ref_epoch] + [statistics.median(r["epoch_seconds"]) for r in ours.values()]
    print(f"{'median s / training epoch':30}" + "".join(f"{t:>{width}.2f}" for t in epoch_times))
    print(f"{'speed-up vs the reference':30}" + "".join(f"{ref_epoch / t:>{width - 1}.2f}x" for t in epoch_times))
    losses = [reference["test_loss"]] + [r["test_loss"] for r in ours.values()]
    for epoch in sorted({len(reference["test_loss"]), args.epochs}):
        cells = [f"{loss[epoch - 1]:.2f}" if len(loss) >= epoch else "" for loss in losses]
        print(f"{f'test loss after {epoch} epochs':30}" + "".join(f"{c:>{width}}" for c in cells))


if __name__ == "__main__":
    main()
