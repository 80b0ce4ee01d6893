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
    fit(ModelConfig(), TrainConfig(epochs={epochs}), train, test, "{out}", device="{device}", progress=False,
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
    parser.add_argument("--reference-epochs", type=int, default=3, help="epochs of the reference (timing)")
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
        ours = run_json(
            OURS_RUNNER.format(
                threads=args.threads,
                epochs=args.epochs,
                data=args.data_dir.resolve(),
                out=Path(tmp) / "ours.st",
                device=args.device,
            ),
            REPO,
        )
    ref_epoch = statistics.median(reference["epoch_seconds"])
    our_epoch = statistics.median(ours["epoch_seconds"])
    result = {
        "threads": args.threads,
        "device": args.device,
        "reference_epoch_seconds": reference["epoch_seconds"],
        "reference_test_loss": reference["test_loss"],
        "ours_epoch_seconds": ours["epoch_seconds"],
        "ours_test_loss": ours["test_loss"],
        "speedup": ref_epoch / our_epoch,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"{'':28}{'pytorch/examples':>18}{'vae (ours)':>14}")
    print(f"{'median s / training epoch':28}{ref_epoch:18.2f}{our_epoch:14.2f}")
    print(f"{'speed-up':28}{'1.00x':>18}{ref_epoch / our_epoch:13.2f}x")
    last = len(reference["test_loss"])
    print(f"{f'test loss after {last} epochs':28}{reference['test_loss'][-1]:18.2f}{ours['test_loss'][last - 1]:14.2f}")
    print(f"{f'test loss after {args.epochs} epochs':28}{'':>18}{ours['test_loss'][-1]:14.2f}")


if __name__ == "__main__":
    main()
