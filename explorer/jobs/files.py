"""The files jobs leave on the server: where trained runs go, an upload's private folder while its map is
built, and the sweeps that delete what no session will take."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from explorer.settings import settings

UPLOAD_MAP_PREFIX = "vae-upload-map-"  # an uploaded checkpoint's private folder while its map is built
# A run's files, or an upload's folder, that no job uses and no session adopted for this long are deleted.
STALE_FILES_S = 3600.0


def runs_folder() -> tuple[Path, bool]:
    """Where trained checkpoints go, and whether the operator chose it (kept) or it is temporary."""
    chosen = settings().runs_dir
    if chosen is not None:
        return chosen, True
    return Path(tempfile.gettempdir()) / "vae-explorer-runs", False


def new_upload_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix=UPLOAD_MAP_PREFIX))


def is_upload_folder(folder: Path) -> bool:
    return folder.name.startswith(UPLOAD_MAP_PREFIX)


def sweep_stale_runs(folder: Path, max_age_s: float = STALE_FILES_S) -> None:
    """Delete checkpoints and maps in the temporary runs folder untouched for max_age_s: runs whose session
    went away between the last epoch and adopting the model, or whose server was stopped. A running job
    rewrites its checkpoint every epoch and a map is built within seconds of the last one."""
    now = time.time()
    for path in folder.glob("*.safetensors"):
        if _untouched_for(path, max_age_s, now):
            path.unlink(missing_ok=True)


def sweep_stale_uploads(live: set[Path], max_age_s: float = STALE_FILES_S) -> None:
    """Delete upload folders left by sessions that went away after their map was done but before they
    adopted it (or by an earlier server process): older than max_age_s and not in use by a map job."""
    now = time.time()
    for folder in Path(tempfile.gettempdir()).glob(f"{UPLOAD_MAP_PREFIX}*"):
        if folder not in live and _untouched_for(folder, max_age_s, now):
            shutil.rmtree(folder, ignore_errors=True)


def _untouched_for(path: Path, max_age_s: float, now: float) -> bool:
    """Whether `path` was last changed over max_age_s before `now` (False if another sweep took it)."""
    try:
        return now - path.stat().st_mtime > max_age_s
    except OSError:
        return False
