"""A real, non-editable `pip install .`: the `vae` command it gives, run from outside and inside a clone.

pip installs with --no-deps into a temporary --target folder (the test's interpreter already has torch
and the rest), from a copy of the sources so no build folder lands in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO as REPO_ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "vae", source / "vae", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    command += ["--no-compile", "--disable-pip-version-check", "--target", str(target), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return target


def run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VAE_CHECKPOINT_DIR", "PYTHONPATH")}
    env |= {"PYTHONPATH": str(target), "XDG_CACHE_HOME": str(cwd / "cache"), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [str(target / "bin" / "vae"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_outside_a_clone_the_command_says_how_to_find_checkpoints(installed: Path, tmp_path: Path) -> None:
    assert (installed / "vae" / "cli.py").is_file() and not (installed / "checkpoints").exists()
    done = run_installed(installed, tmp_path, "evaluate", "--device", "cpu")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1  # one line
    assert "VAE_CHECKPOINT_DIR" in done.stderr and "pass a checkpoint path" in done.stderr
    assert "site-packages" not in done.stderr and str(installed) not in done.stderr
    assert str(tmp_path / "cache" / "vae-latent-explorer" / "checkpoints") in done.stderr


@pytest.mark.slow
def test_inside_a_clone_the_installed_command_finds_its_checkpoints(installed: Path, tmp_path: Path) -> None:
    default = REPO_ROOT / "checkpoints" / "vae_d20.safetensors"
    if not default.is_file():
        pytest.skip("no shipped checkpoints in this clone")
    done = run_installed(installed, REPO_ROOT / "tests", "info")  # from a subfolder of the clone
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == str(default)
    assert "vae, latent d = 20" in done.stdout
