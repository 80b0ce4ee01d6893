"""Default folders: looked up when used, from the environment, then a checkout, then the user cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import REPO as REPO_ROOT
from vae import checkpoint, data, paths


def test_the_environment_wins_and_is_read_on_each_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "d"))
    assert tmp_path / "a" == checkpoint.CHECKPOINT_DIR
    assert tmp_path / "d" == data.DEFAULT_DATA_DIR
    assert data.raw_dir() == tmp_path / "d" / "MNIST" / "raw"
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(tmp_path / "b"))
    assert paths.checkpoint_dir() == tmp_path / "b"
    assert paths.shipped_test_dir() == tmp_path / "b" / "mnist"


def test_a_checkout_is_found_from_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VAE_CHECKPOINT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # the package itself sits in the checkout
    assert paths.checkout_root() == REPO_ROOT
    assert paths.checkpoint_dir() == REPO_ROOT / "checkpoints"


def test_outside_a_checkout_the_user_cache_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VAE_CHECKPOINT_DIR", raising=False)
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "checkout_root", lambda: None)  # as an installed package outside a clone
    assert paths.checkpoint_dir() == tmp_path / "cache" / "vae-latent-explorer" / "checkpoints"
    assert paths.data_dir() == tmp_path / "cache" / "vae-latent-explorer" / "data"
    with pytest.raises(checkpoint.CheckpointError, match="VAE_CHECKPOINT_DIR"):
        checkpoint.default_checkpoint_path()


def test_is_checkout_needs_this_projects_pyproject(tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    assert not paths.is_checkout(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    assert not paths.is_checkout(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "vae-latent-explorer"\n')
    assert paths.is_checkout(tmp_path)
    assert paths.is_checkout(REPO_ROOT)
