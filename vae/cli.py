"""Command line: `python -m vae data | train | evaluate | export | info | atlas` (also the `vae` console script)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vae.config import LR_SCHEDULES, OUTPUT_BIAS_INITS, PRECISIONS, ConfigError, ModelConfig, TrainConfig
from vae.kinds import KINDS, VAE_KIND


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder in torchvision's MNIST layout (DIR/MNIST/raw); default $VAE_DATA_DIR, a checkout's data/, "
        "else ~/.cache/vae-latent-explorer/data",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vae",
        description="Train, evaluate and map the lecture's VAE on MNIST.",
        epilog="Checkpoints default to $VAE_CHECKPOINT_DIR, else the checkpoints/ folder of the clone you run in.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of any error")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="fetch MNIST (both splits, MD5-checked) into the data folder, once")
    _add_data_dir(data)

    train = commands.add_parser("train", help="train a VAE or a plain autoencoder")
    defaults = TrainConfig()
    train.add_argument("--epochs", type=int, default=defaults.epochs)
    train.add_argument("--batch-size", type=int, default=defaults.batch_size)
    train.add_argument("--lr", type=float, default=defaults.lr)
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=defaults.lr_schedule)
    train.add_argument("--latent-dim", type=int, default=ModelConfig.latent_dim)
    train.add_argument("--hidden-dim", type=int, default=ModelConfig.hidden_dim)
    train.add_argument("--beta", type=float, default=defaults.beta, help="weight of the KL term (1 = classic VAE)")
    train.add_argument("--kind", choices=tuple(KINDS), default=VAE_KIND.name)
    train.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=defaults.precision,
        help="bf16: matrix products in bfloat16; auto (default): bf16 where the hardware multiplies it natively",
    )
    train.add_argument(
        "--output-bias-init",
        choices=OUTPUT_BIAS_INITS,
        default=defaults.output_bias_init,
        help="data-mean (default): the decoder starts at the mean training image; "
        "torch-default: PyTorch's random init, as pytorch/examples",
    )
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument(
        "--snapshot-epochs",
        default=",".join(map(str, defaults.snapshot_epochs)),
        help="epochs at which the weights and test-set codes are kept (comma separated; the last always is)",
    )
    _add_data_dir(train)
    train.add_argument("--out", default=None, help="checkpoint path (default runs/<kind>_d<latent-dim>.safetensors)")
    train.add_argument("--resume", action="store_true", help="continue --out from its last completed epoch")
    train.add_argument("--no-progress", action="store_true", help="no progress bar, only the per-epoch lines")

    evaluate = commands.add_parser("evaluate", help="test-set reconstruction, KL, −ELBO and the IWAE bound")
    evaluate.add_argument(
        "checkpoint", nargs="?", default=None, help="default: vae_d20.safetensors in the checkpoint folder"
    )
    evaluate.add_argument("--k", type=int, default=1000, help="samples for the k-sample bounds (0 to skip)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--device", default="auto")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_data_dir(evaluate)

    export = commands.add_parser("export", help="a small copy for shipping (float16 weights) with its evaluation")
    export.add_argument("source")
    export.add_argument("destination")
    export.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    export.add_argument("--k", type=int, default=1000)
    export.add_argument("--device", default="auto")
    _add_data_dir(export)

    info = commands.add_parser("info", help="what a checkpoint holds, from its metadata (no data needed)")
    info.add_argument(
        "checkpoint", nargs="?", default=None, help="default: vae_d20.safetensors in the checkpoint folder"
    )

    atlas = commands.add_parser("atlas", help="t-SNE maps and per-dimension KL, stored beside the checkpoint")
    atlas.add_argument(
        "checkpoint", nargs="?", default=None, help="default: vae_d20.safetensors in the checkpoint folder"
    )
    atlas.add_argument("--seed", type=int, default=0)
    atlas.add_argument(
        "--run", default=None, help="the run file a shipped copy was exported from: its test codes over training"
    )
    atlas.add_argument(
        "--scores-only",
        action="store_true",
        help="fill in the per-test-image scores of an existing atlas, keeping its map (no new t-SNE)",
    )
    _add_data_dir(atlas)
    return parser


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_data(args: argparse.Namespace) -> int:
    from vae.data import ensure_mnist, raw_dir

    ensure_mnist(args.data_dir, ("train", "test"), _log)
    print(f"MNIST (train and test, MD5-checked): {raw_dir(args.data_dir)}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from vae.data import load_mnist
    from vae.training import fit

    model_config = ModelConfig(kind=args.kind, hidden_dim=args.hidden_dim, latent_dim=args.latent_dim)
    snapshots = tuple(int(e) for e in args.snapshot_epochs.split(",") if e.strip())
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        beta=args.beta,
        seed=args.seed,
        snapshot_epochs=snapshots,
        precision=args.precision,
        output_bias_init=args.output_bias_init,
    )
    out = Path(args.out or f"runs/{args.kind}_d{args.latent_dim}.safetensors")
    if out.exists() and not args.resume:
        raise ConfigError(f"{out} exists: pass --resume to continue it, or choose another --out")
    train_data, test_data = load_mnist("train", args.data_dir, _log), load_mnist("test", args.data_dir, _log)
    fit(model_config, config, train_data, test_data, out, args.device, args.resume, not args.no_progress, print)
    print(f"checkpoint: {out}")
    return 0


def format_report(report: dict) -> str:
    labels = {
        "recon": "reconstruction (BCE, 1 sample)",
        "kl": "KL to the prior",
        "neg_elbo": "−ELBO, 1 sample",
        "neg_elbo_k": f"−ELBO, mean of {report.get('k')} samples",
        "neg_iwae_k": f"−IWAE bound, k = {report.get('k')}",
    }
    lines = [f"{report['images']} test images, nats per image"]
    lines += [f"  {label:<34} {report[key]:8.2f}" for key, label in labels.items() if key in report]
    return "\n".join(lines)


def run_evaluate(args: argparse.Namespace) -> int:
    from vae.checkpoint import load_checkpoint
    from vae.data import load_mnist
    from vae.evaluate import evaluate
    from vae.training import resolve_device

    model = load_checkpoint(args.checkpoint, resolve_device(args.device))
    test = load_mnist("test", args.data_dir, _log)
    report = evaluate(model, test.images, k=args.k, beta=model.meta.beta, seed=args.seed)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def train_command(model: ModelConfig, train: TrainConfig, out: str) -> str:
    """The `vae train` command line that gives this training (a shipped file carries it in its metadata)."""
    return (
        f"python -m vae train --kind {model.kind} --latent-dim {model.latent_dim} --hidden-dim {model.hidden_dim} "
        f"--epochs {train.epochs} --batch-size {train.batch_size} --lr {train.lr:g} --lr-schedule {train.lr_schedule} "
        f"--beta {train.beta:g} --seed {train.seed} --snapshot-epochs {','.join(map(str, train.snapshot_epochs))} "
        f"--precision {train.precision} --output-bias-init {train.output_bias_init} --out {out}"
    )


def run_export(args: argparse.Namespace) -> int:
    import torch

    from vae.checkpoint import export_checkpoint, load_checkpoint, open_checkpoint, write_checkpoint
    from vae.data import load_mnist
    from vae.evaluate import evaluate
    from vae.training import resolve_device

    export_checkpoint(args.source, args.destination, getattr(torch, args.dtype))
    model = load_checkpoint(args.destination, resolve_device(args.device))
    test = load_mnist("test", args.data_dir, _log)
    report = evaluate(model, test.images, k=args.k, beta=model.meta.beta)
    tensors, meta = open_checkpoint(args.destination)
    reproduce = [
        train_command(meta.model, meta.train, args.source) if meta.train is not None else None,
        f"python -m vae export {args.source} {args.destination} --dtype {args.dtype} --k {args.k}",
        f"python -m vae atlas {args.destination} --run {args.source}",
    ]
    write_checkpoint(args.destination, tensors, {**meta.to_dict(), "evaluation": report, "reproduce": reproduce})
    print(format_report(report))
    return 0


def run_info(args: argparse.Namespace) -> int:
    from vae.checkpoint import default_checkpoint_path, read_meta
    from vae.training import format_terms

    path = Path(args.checkpoint) if args.checkpoint is not None else default_checkpoint_path()
    meta = read_meta(path)
    model = meta.model
    print(f"{path}")
    print(f"  {model.kind}, latent d = {model.latent_dim}, hidden {model.hidden_dim}, weights {meta.weights_dtype}")
    if meta.train is not None:
        train = meta.train
        recipe = f"batch {train.batch_size}, lr {train.lr:g}, β {train.beta:g}"
        print(f"  trained {meta.epoch} of {train.epochs} epochs, {recipe}")
    if meta.last_epoch is not None:
        print(f"  last epoch: {format_terms('test', vars(meta.last_epoch.test))}")
    if meta.evaluation is not None:
        report = {k: v for k, v in vars(meta.evaluation).items() if v is not None}
        print("  " + format_report(report).replace("\n", "\n  "))
    print(f"  resumable: {'yes' if meta.resumable else 'no (an exported copy)'}")
    for command in meta.raw.get("reproduce") or []:
        if command:
            print(f"  reproduce: {command}")
    return 0


def run_atlas(args: argparse.Namespace) -> int:
    from vae.atlas import add_scores, build_atlas
    from vae.checkpoint import default_checkpoint_path

    if args.scores_only:
        path = add_scores(args.checkpoint or default_checkpoint_path(), data_dir=args.data_dir, log=_log)
        print(f"{path}: per-test-image scores stored")
        return 0
    path = build_atlas(args.checkpoint, data_dir=args.data_dir, seed=args.seed, log=_log, run=args.run)
    print(f"atlas: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Mistakes a user can fix (a missing file, a bad setting, absent data, a diverged run) end in one
    `error:` line and exit 2; anything else is a bug and keeps its traceback, as does any error with --debug."""
    args = build_parser().parse_args(argv)
    from vae.atlas import AtlasError
    from vae.checkpoint import CheckpointError
    from vae.data import DataError
    from vae.training import TrainingDiverged

    handlers = {
        "data": run_data,
        "train": run_train,
        "evaluate": run_evaluate,
        "export": run_export,
        "info": run_info,
        "atlas": run_atlas,
    }
    try:
        return handlers[args.command](args)
    except (CheckpointError, AtlasError, ConfigError, DataError, TrainingDiverged) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("interrupted: the last checkpoint written is intact (continue with --resume)", file=sys.stderr)
        return 130
