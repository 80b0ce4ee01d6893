"""Where checkpoints and data live, looked up when asked (never at import), in this order:

1. the environment: VAE_CHECKPOINT_DIR, VAE_DATA_DIR;
2. a source checkout: the folder holding this package's pyproject.toml and checkpoints/ (an editable
   install or `python -m vae` in the repository), else the current folder or one above it;
3. a user cache folder: $XDG_CACHE_HOME/vae-latent-explorer, by default ~/.cache/vae-latent-explorer.

An installed package (site-packages) is never written to nor searched for checkpoints.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_NAME = "vae-latent-explorer"
CHECKPOINT_ENV = "VAE_CHECKPOINT_DIR"
DATA_ENV = "VAE_DATA_DIR"


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / PROJECT_NAME


def is_checkout(folder: Path) -> bool:
    """A copy of this repository: its pyproject.toml names the project and checkpoints/ sits beside it."""
    pyproject = folder / "pyproject.toml"
    if not (pyproject.is_file() and (folder / "checkpoints").is_dir()):
        return False
    try:
        return f'name = "{PROJECT_NAME}"' in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def checkout_root() -> Path | None:
    """The checkout this package runs from, else the one the current folder is in, else None."""
    package_parent = Path(__file__).resolve().parent.parent
    if is_checkout(package_parent):
        return package_parent
    cwd = Path.cwd().resolve()
    return next((folder for folder in (cwd, *cwd.parents) if is_checkout(folder)), None)


def checkpoint_dir() -> Path:
    """The folder of checkpoints: $VAE_CHECKPOINT_DIR, the checkout's checkpoints/, else the user cache's."""
    if os.environ.get(CHECKPOINT_ENV):
        return Path(os.environ[CHECKPOINT_ENV]).expanduser()
    root = checkout_root()
    return root / "checkpoints" if root is not None else user_cache_dir() / "checkpoints"


def data_dir() -> Path:
    """The MNIST folder: $VAE_DATA_DIR, a checkout's data/ where one already exists, else the user cache's."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    root = checkout_root()
    if root is not None and (root / "data").is_dir():
        return root / "data"
    return user_cache_dir() / "data"


def shipped_test_dir() -> Path:
    """The compact MNIST test split shipped beside the checkpoints (checkpoints/mnist)."""
    return checkpoint_dir() / "mnist"


def checkpoint_dir_hint() -> str:
    """How to tell the library where the checkpoints are, for error messages."""
    return (
        f"pass a checkpoint path, or set {CHECKPOINT_ENV} to a folder of checkpoints "
        "(the checkpoints/ folder of a clone of the repository), or run from inside a clone"
    )
