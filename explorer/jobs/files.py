"""The files a server's sessions leave on its disk, and their removal.

Each server process keeps them in a folder of its own in the temporary folder, one sub-folder per
session: an uploaded checkpoint while its map is built, a trained run until its session holds the model.
A session's folder goes once the session is gone (the janitor in explorer/service/jobs.py), the
process's folder when the process stops, and at start-up the folders of processes that are gone (a
server killed outright). Replicas on one machine each sweep only what no living process owns.
An operator's runs folder (VAE_RUNS_DIR) is kept whole.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

from explorer.settings import settings

SERVER_PREFIX = "vae-explorer-"  # + the process id
UPLOAD_PREFIX = "upload-"  # an uploaded checkpoint's private folder while its map is built
OWNER = re.compile(r"[0-9a-f]{8,64}")  # a session's owner id (explorer.service.jobs.session_id)


def temporary_root() -> Path:
    return Path(tempfile.gettempdir())


@cache
def server_folder() -> Path:
    """This process's folder, made private on first use and removed when the process exits."""
    sweep_gone_servers()
    folder = temporary_root() / f"{SERVER_PREFIX}{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def session_folder(owner: str) -> Path:
    if not OWNER.fullmatch(owner):
        raise ValueError("not a session owner id")
    return server_folder() / "sessions" / owner


def runs_folder(owner: str) -> tuple[Path, bool]:
    """Where a session's trained checkpoints go, and whether the operator keeps them (VAE_RUNS_DIR)."""
    chosen = settings().runs_dir
    if chosen is not None:
        return chosen, True
    return session_folder(owner) / "runs", False


def new_upload_folder(owner: str) -> Path:
    parent = session_folder(owner)
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX, dir=parent))


def is_upload_folder(folder: Path) -> bool:
    return folder.name.startswith(UPLOAD_PREFIX)


def sessions_with_files() -> list[str]:
    """The owners whose session folder exists."""
    sessions = server_folder() / "sessions"
    return sorted(p.name for p in sessions.iterdir()) if sessions.is_dir() else []


def forget_session(owner: str) -> None:
    """Delete everything a session left (it is gone)."""
    shutil.rmtree(session_folder(owner), ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: alive
        return True
    return True


def sweep_gone_servers() -> None:
    """Delete the folders of server processes that no longer run (stopped without removing them)."""
    for folder in temporary_root().glob(f"{SERVER_PREFIX}*"):
        pid = folder.name.removeprefix(SERVER_PREFIX)
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
