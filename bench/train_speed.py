"""Training speed, two comparisons.

`steps`: the trainer's step as the app trains (vae/training.py's new_run and train_epoch over the
data held as one tensor, the lecture's 784-400-20 VAE, batch 256, fused Adam where this torch has it
on the CPU) in bf16 autocast against fp32, at 1 and 2 threads. The two take turns slice by slice, so
a slow phase of the shared machine hits both alike; it prints the median steps/s and the median of
the paired ratios, and appends them to bench/results/train_speed-<date>-<cpu>.txt (bench/results.py).

    python bench/train_speed.py steps --repeats 7

`reference`: our trainer against pytorch/examples' vae/main.py, side by side in one process.
Both train the same model (784-400-20, batch 128, Adam 1e-3) on the same MNIST files on this
machine's CPU. Ours starts its decoder at the mean training image (its default) unless a variant ends
in -torchinit, which keeps PyTorch's random init as the reference does. The reference is not part
of this repository: fetch pytorch/examples and pass its vae/main.py with --reference. It is loaded
with runpy and its own train() and test() are called, so its code runs unmodified.

The runs take turns epoch by epoch (reference, then each of our variants), each with its own
global RNG state swapped in, so every run gives the numbers it would give alone while a slow
phase of the shared machine hits all of them alike. The speed-up is the median of the per-epoch
ratios.

    python bench/train_speed.py reference --reference /path/to/examples/vae/main.py --seeds 1 2 3 4

Its runs are appended to bench/results/train_speed_reference-<date>-<cpu>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import runpy
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402
from vae.config import ModelConfig, TrainConfig  # noqa: E402
from vae.data import DataError, ensure_mnist, load_mnist  # noqa: E402
from vae.evaluate import split_loss  # noqa: E402
from vae.paths import data_dir as default_data_dir  # noqa: E402
from vae.train_step import resolve_precision  # noqa: E402
from vae.training import new_run, train_epoch  # noqa: E402

Epoch = Callable[[int], tuple[float, float]]  # trains epoch n: (its training seconds, the test loss after it)


class Contender:
    """One training run with its own global RNG state, timed per epoch."""

    def __init__(self, name: str, start: Callable[[], Epoch]) -> None:
        self.name = name
        self.epoch = start()  # seeds the global RNG as the run would alone
        self.rng = torch.get_rng_state()
        self.seconds: list[float] = []
        self.test_loss: list[float] = []

    def run_epoch(self, number: int) -> None:
        torch.set_rng_state(self.rng)
        seconds, loss = self.epoch(number)
        self.seconds.append(seconds)
        self.test_loss.append(loss)
        self.rng = torch.get_rng_state()


def reference_run(main: Path, seed: int, epochs: int) -> Epoch:
    sys.argv = ["main.py", "--epochs", str(epochs), "--no-accel", "--seed", str(seed)]
    with contextlib.redirect_stdout(io.StringIO()):
        ns = runpy.run_path(str(main), run_name="reference")  # builds the model and loaders, trains nothing

    def epoch(number: int) -> tuple[float, float]:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            ns["train"](number)
        seconds = time.perf_counter() - started
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ns["test"](number)
        return seconds, float(out.getvalue().rsplit(":", 1)[1])

    return epoch


def our_config(variant: str, seed: int, epochs: int) -> TrainConfig:
    """PRECISION-SCHEDULE, with -torchinit for PyTorch's random output bias instead of the data mean."""
    precision, schedule, *init = variant.split("-")
    if init not in ([], ["torchinit"]):
        raise SystemExit(f"unknown variant {variant!r}: use PRECISION-SCHEDULE or PRECISION-SCHEDULE-torchinit")
    bias_init = "torch-default" if init else "data-mean"
    return TrainConfig(epochs=epochs, precision=precision, lr_schedule=schedule, seed=seed, output_bias_init=bias_init)


def our_run(config: TrainConfig, data: Path, device: str) -> Epoch:
    train_images, test_images = load_mnist("train", data).images, load_mnist("test", data).images
    train_images, test_images = train_images.to(device), test_images.to(device)
    run = new_run(ModelConfig(), config, torch.device(device), train_images)

    def epoch(number: int) -> tuple[float, float]:
        started = time.perf_counter()
        train_epoch(run, train_images, config, progress=False)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        # the test loss the trainer reports after this epoch
        loss = split_loss(run.model.eval(), test_images, beta=config.beta, seed=number)["total"]
        run.epoch = number
        return seconds, loss

    return epoch


def reference(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    data, reference = (args.data_dir or default_data_dir()).resolve(), args.reference.resolve()
    ensure_mnist(data)  # both read these verified files; nothing is downloaded during timing
    names = ["reference", *args.variants]
    runs: dict[str, list[dict]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        (work / "results").mkdir(parents=True)  # the reference's test() saves images there
        os.symlink(data, Path(tmp) / "data")  # the reference reads ../data
        os.chdir(work)
        for seed in args.seeds:
            contenders = [Contender("reference", lambda seed=seed: reference_run(reference, seed, args.epochs))]
            for variant in args.variants:
                config = our_config(variant, seed, args.epochs)
                contenders.append(Contender(variant, lambda c=config: our_run(c, data, args.device)))
            for number in range(1, args.epochs + 1):
                for contender in contenders:
                    contender.run_epoch(number)
            for contender in contenders:
                runs[contender.name].append({"epoch_seconds": contender.seconds, "test_loss": contender.test_loss})
            print(f"seed {seed}: " + ", ".join(f"{c.name} {c.test_loss[-1]:.2f}" for c in contenders), file=sys.stderr)

    def seconds(name: str) -> list[float]:
        return [t for run in runs[name] for t in run["epoch_seconds"]]

    def ratios(name: str) -> list[float]:
        return [ref / ours for ref, ours in zip(seconds("reference"), seconds(name), strict=True)]

    final = {name: [run["test_loss"][-1] for run in runs[name]] for name in names}
    result = {
        "threads": args.threads,
        "device": args.device,
        "seeds": args.seeds,
        "epochs": args.epochs,
        "runs": runs,
        "median_epoch_seconds": {name: statistics.median(seconds(name)) for name in names},
        "speedup_median": {name: statistics.median(ratios(name)) for name in args.variants},
        "speedup_range": {name: [min(ratios(name)), max(ratios(name))] for name in args.variants},
        "final_test_loss_mean": {name: statistics.mean(final[name]) for name in names},
    }
    save("train_speed_reference", result)

    width = max(len(name) for name in names) + 2
    rows = [
        ("median s / training epoch", [f"{statistics.median(seconds(n)):.2f}" for n in names]),
        ("speed-up (median of epochs)", ["1.00x"] + [f"{statistics.median(ratios(n)):.2f}x" for n in names[1:]]),
        (
            "speed-up, slowest-fastest epoch",
            [""] + [f"{min(ratios(n)):.1f}-{max(ratios(n)):.1f}x" for n in names[1:]],
        ),
        (f"test loss, {args.epochs} epochs, mean", [f"{statistics.mean(final[n]):.2f}" for n in names]),
        (f"  seeds {' '.join(map(str, args.seeds))}", [f"{min(final[n]):.2f}-{max(final[n]):.2f}" for n in names]),
    ]
    print(f"{'':34}" + "".join(f"{name:>{width}}" for name in names))
    for label, cells in rows:
        print(f"{label:34}" + "".join(f"{cell:>{width}}" for cell in cells))


# ---------------------------------------------------------------- the step, as the app trains

APP_BATCH = 256  # explorer/live_training.py's LECTURE_BATCH


def bench_images(data: Path | None) -> tuple[torch.Tensor, str]:
    """MNIST's training set if it is on this machine, else its test set (shipped with the checkpoints)."""
    for split in ("train", "test"):
        try:
            return load_mnist(split, data, allow_download=False).images, f"MNIST {split}"
        except DataError:
            continue
    raise SystemExit("no MNIST on this machine: fetch it once with python -m vae evaluate")


def steps(args: argparse.Namespace) -> None:
    images, source = bench_images(args.data_dir)
    images = images[: args.images]
    configs = {p: TrainConfig(batch_size=args.batch, epochs=1, precision=p) for p in args.precisions}
    load_before = os.getloadavg()
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        runs = {p: new_run(ModelConfig(), config, torch.device("cpu"), images) for p, config in configs.items()}
        optimizer = "fused" if next(iter(runs.values())).optimizer.defaults.get("fused") else "default"
        rates: dict[str, list[float]] = {p: [] for p in runs}
        for repeat in range(args.repeats + 1):  # the first round warms up and is not counted
            for precision, run in runs.items():
                started = time.perf_counter()
                train_epoch(run, images, configs[precision], progress=False)
                if repeat:
                    rates[precision].append(-(-len(images) // args.batch) / (time.perf_counter() - started))
        first = args.precisions[0]
        for precision in args.precisions:
            ratios = [a / b for a, b in zip(rates[precision], rates[first], strict=True)]
            rows.append(
                f"{threads:>7} {precision:>9} {statistics.median(rates[precision]):>8.1f} "
                f"{statistics.median(ratios):>13.2f}x {min(ratios):>5.2f}-{max(ratios):.2f}x  {optimizer}"
            )
            print(rows[-1], file=sys.stderr)
    loads = " ".join(f"{a:.2f}" for a in load_before), " ".join(f"{a:.2f}" for a in os.getloadavg())
    auto = resolve_precision("auto", torch.device("cpu"))
    lines = [  # the date, CPU, cores, versions and load before are in the header results.save writes
        f"auto precision here: {auto}",
        f"data: {source}, {len(images)} images held as one tensor; batch {args.batch}; "
        f"784-{ModelConfig().hidden_dim}-{ModelConfig().latent_dim} VAE; repeats {args.repeats}",
        f"load average (1, 5, 15 min): before {loads[0]}, after {loads[1]}",
        "",
        f"threads precision  steps/s  vs {args.precisions[0]} (median, range)  Adam",
        *rows,
    ]
    text = "\n".join(lines)
    print(text)
    save("train_speed", text)  # a day's runs on one CPU kind stay together, each with its load average


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    parser.add_argument("--data-dir", type=Path, default=None, help="holds MNIST/raw (default: vae/paths.py)")

    step_parser = sub.add_parser("steps", help="the training step as the app trains, bf16 against fp32")
    step_parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    step_parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    step_parser.add_argument("--batch", type=int, default=APP_BATCH)
    step_parser.add_argument("--images", type=int, default=10_240, help="images per timed slice")
    step_parser.add_argument("--repeats", type=int, default=7, help="timed slices per contender")

    ref = sub.add_parser("reference", help="our trainer against pytorch/examples vae/main.py")
    ref.add_argument("--reference", required=True, type=Path, help="pytorch/examples vae/main.py")
    ref.add_argument("--epochs", type=int, default=10)
    ref.add_argument(
        "--variants",
        nargs="+",
        default=["auto-constant", "auto-constant-torchinit"],
        help="our runs as PRECISION-SCHEDULE[-torchinit] (fp32|bf16|auto, constant|cosine): constant is the "
        "reference's schedule; -torchinit starts from its init too (PyTorch's random output bias)",
    )
    ref.add_argument("--seeds", type=int, nargs="+", default=[1], help="each seed runs the reference and ours")
    ref.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ref.add_argument("--device", default="cpu")
    args = parser.parse_args()
    {"steps": steps, "reference": reference}[args.mode](args)


if __name__ == "__main__":
    main()
