"""The command line: help, clean errors (exit 2, no traceback), and each command end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO as REPO_ROOT
from vae import data
from vae.atlas import build_atlas, load_atlas
from vae.checkpoint import load_checkpoint, read_meta
from vae.cli import main
from vae.data import MnistSplit
from vae.evaluate import evaluate

SUBCOMMANDS = ("train", "evaluate", "export", "atlas")


def run_vae(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "vae", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def fake_mnist(monkeypatch: pytest.MonkeyPatch, fake_train: MnistSplit, fake_test: MnistSplit) -> list[str]:
    """The commands read MNIST through vae.data.load_mnist: serve the small fake splits instead."""
    requested: list[str] = []

    def load_fake(split: str, data_dir: object = None, progress: object = None) -> MnistSplit:
        requested.append(split)
        return {"train": fake_train, "test": fake_test}[split]

    monkeypatch.setattr(data, "load_mnist", load_fake)
    return requested


# ---------------------------------------------------------------- help and errors


def test_help_in_a_real_process() -> None:
    done = run_vae("--help")
    assert done.returncode == 0, done.stderr
    for command in SUBCOMMANDS:
        assert command in done.stdout


def test_help_answers_without_importing_torch() -> None:
    script = (
        "import sys, runpy\n"
        "sys.argv = ['vae', '--help']\n"
        "try:\n    runpy.run_module('vae', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"  # the names in vae/__init__ load on first use


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (
            "train",
            ["--epochs", "--latent-dim", "--hidden-dim", "--beta", "--kind", "--resume", "--out", "--no-progress"],
        ),
        ("evaluate", ["--k", "--seed", "--json", "--device"]),
        ("export", ["--dtype", "--k"]),
        ("atlas", ["--seed", "--data-dir", "--scores-only"]),
    ],
)
def test_subcommand_help(command: str, options: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in options:
        assert option in out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_a_missing_checkpoint_in_a_real_process() -> None:
    done = run_vae("evaluate", "/nonexistent.safetensors", "--device", "cpu")
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert "nonexistent.safetensors: no such checkpoint file" in done.stderr  # its name: never a server's folders
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_evaluate_a_damaged_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(b"\x00" * 100)
    assert main(["evaluate", str(path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert path.name in err and str(path.parent) not in err


def test_debug_shows_the_traceback_of_a_user_error(tmp_path: Path) -> None:
    from vae.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="no such checkpoint"):
        main(["--debug", "evaluate", str(tmp_path / "absent.safetensors"), "--device", "cpu"])


def test_a_bug_keeps_its_traceback(checkpoint_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A ValueError from inside the library is a bug, not a mistake of the user's: it must not be
    # turned into a one-line message that hides where it came from.
    import vae.evaluate

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("an internal shape mismatch")

    monkeypatch.setattr(vae.evaluate, "evaluate", broken)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: MnistSplit(images=None, labels=None, md5={}))
    with pytest.raises(ValueError, match="internal shape mismatch"):
        main(["evaluate", str(checkpoint_copy), "--device", "cpu"])


def test_train_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "x.safetensors"
    out.write_bytes(b"an earlier run")
    assert main(["train", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"error: {out} exists: pass --resume to continue it" in err
    assert out.read_bytes() == b"an earlier run"


# ---------------------------------------------------------------- the commands on the small fake data


def test_train_evaluate_export_atlas(tmp_path: Path, fake_mnist: list[str], capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "x.safetensors"
    args = ["train", "--epochs", "2", "--latent-dim", "2", "--hidden-dim", "16", "--batch-size", "64"]
    args += ["--lr", "0.003", "--lr-schedule", "cosine", "--seed", "4", "--snapshot-epochs", "0, 2"]
    args += ["--output-bias-init", "torch-default"]
    assert main([*args, "--out", str(out), "--device", "cpu", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"checkpoint: {out}" in printed
    assert printed.count("epoch ") >= 2
    meta = load_checkpoint(out).meta.raw
    assert meta["model"] == {"kind": "vae", "input_dim": 784, "hidden_dim": 16, "latent_dim": 2}
    assert meta["train"] == {
        "epochs": 2,
        "batch_size": 64,
        "lr": 0.003,
        "lr_schedule": "cosine",
        "beta": 1.0,
        "seed": 4,
        "snapshot_epochs": [0, 2],
        "precision": "auto",
        "output_bias_init": "torch-default",
    }
    assert meta["precision"] in ("fp32", "bf16")  # what "auto" chose on this machine
    assert fake_mnist == ["train", "test"]

    assert main(["evaluate", str(out), "--k", "5", "--json", "--device", "cpu"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == evaluate(load_checkpoint(out), data.load_mnist("test").images, k=5)
    assert {"recon", "kl", "neg_elbo", "neg_elbo_k", "neg_iwae_k"} <= set(report)

    assert main(["evaluate", str(out), "--k", "5", "--device", "cpu"]) == 0
    table = capsys.readouterr().out
    assert "−IWAE bound, k = 5" in table
    assert f"{report['neg_elbo']:8.2f}" in table

    small = tmp_path / "small.safetensors"
    assert main(["export", str(out), str(small), "--k", "5", "--device", "cpu"]) == 0
    small_meta = read_meta(small).raw
    assert small_meta["weights_dtype"] == "float16"
    assert small_meta["evaluation"] == evaluate(load_checkpoint(small), data.load_mnist("test").images, k=5)
    assert "optimizer" not in small_meta

    assert main(["atlas", str(small)]) == 0
    assert f"atlas: {small.with_name('small.atlas.safetensors')}" in capsys.readouterr().out
    assert load_atlas(small).method == "latent"

    build_atlas(small, scores=False, log=lambda _m: None)
    unscored = load_atlas(small)
    assert unscored.scores is None
    assert main(["atlas", str(small), "--scores-only"]) == 0
    assert "per-test-image scores stored" in capsys.readouterr().out
    scored = load_atlas(small)
    assert scored.scores is not None and len(scored.scores.recon) == len(unscored.coords)
    assert (scored.coords == unscored.coords).all()  # the map is kept

    assert main([*args, "--out", str(out), "--device", "cpu", "--no-progress"]) == 2  # exists, no --resume
    assert "pass --resume" in capsys.readouterr().err


def test_train_resume_through_the_cli(tmp_path: Path, fake_mnist: list[str], capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "x.safetensors"
    common = ["train", "--latent-dim", "3", "--hidden-dim", "16", "--batch-size", "64", "--out", str(out)]
    common += ["--device", "cpu", "--no-progress"]
    assert main([*common, "--epochs", "1"]) == 0
    assert main([*common, "--epochs", "2", "--resume"]) == 0
    assert load_checkpoint(out).meta.raw["epoch"] == 2
    assert main([*common, "--epochs", "3", "--resume", "--hidden-dim", "8"]) == 2
    assert "was trained with" in capsys.readouterr().err


def test_training_divergence_is_a_clean_error(
    tmp_path: Path, fake_mnist: list[str], capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "x.safetensors"
    code = main(["train", "--epochs", "2", "--hidden-dim", "16", "--lr", "1e6", "--out", str(out), "--device", "cpu"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: the training loss became nan in epoch 1" in err
    assert load_checkpoint(out).meta.raw["epoch"] == 0


def test_an_absent_device_is_a_clean_error(
    tmp_path: Path, fake_mnist: list[str], capsys: pytest.CaptureFixture
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "x.safetensors"
    assert main(["train", "--epochs", "1", "--out", str(out), "--device", "cuda", "--no-progress"]) == 2
    assert "error: device 'cuda' is not available" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("bad", [["--batch-size", "0"], ["--beta", "-1"], ["--epochs", "-2"], ["--latent-dim", "0"]])
def test_bad_hyperparameters_are_clean_errors(tmp_path: Path, bad: list[str], capsys: pytest.CaptureFixture) -> None:
    assert main(["train", *bad, "--out", str(tmp_path / "x.safetensors")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


# ---------------------------------------------------------------- the real thing


@pytest.mark.mnist
def test_train_and_evaluate_on_mnist(tmp_path: Path, mnist_data_dir: Path) -> None:
    out = tmp_path / "x.safetensors"
    common = ["--data-dir", str(mnist_data_dir)]
    train = ["train", "--epochs", "1", "--latent-dim", "2", "--hidden-dim", "64", "--out", str(out), "--no-progress"]
    done = run_vae(*train, "--device", "cpu", *common)
    assert done.returncode == 0, done.stderr
    assert f"checkpoint: {out}" in done.stdout
    assert load_checkpoint(out).meta.raw["epoch"] == 1

    done = run_vae("evaluate", str(out), "--k", "5", "--json", "--device", "cpu", *common)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"recon", "kl", "neg_elbo", "neg_elbo_k", "neg_iwae_k"} <= set(report)
    assert report["images"] == 10000
    assert report["k"] == 5
    assert report["neg_iwae_k"] <= report["neg_elbo_k"]
    assert 100 < report["neg_elbo"] < 250  # one epoch of a 2-D VAE: well below 543 nats (all pixels at ½)
    assert report["neg_elbo"] == pytest.approx(report["recon"] + report["kl"])

    again = run_vae(*train, "--device", "cpu", *common)
    assert again.returncode == 2
    assert f"error: {out} exists: pass --resume to continue it, or choose another --out" in again.stderr
    assert "Traceback" not in again.stderr


def test_evaluate_an_older_checkpoint_without_a_training_config(
    tmp_path: Path, fake_mnist: list[str], capsys: pytest.CaptureFixture
) -> None:
    # `metadata["train"]["beta"]` used to raise a KeyError past the CLI's handler here.
    import torch

    from vae.checkpoint import model_tensors, write_checkpoint
    from vae.config import ModelConfig
    from vae.model import build_model

    path = tmp_path / "old.safetensors"
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vae", hidden_dim=8, latent_dim=2))
    write_checkpoint(path, model_tensors(model), {"model": model.config.to_dict()})
    assert main(["evaluate", str(path), "--k", "2", "--device", "cpu"]) == 0
    assert "−ELBO" in capsys.readouterr().out
