"""Models that belong to one session: checkpoints a visitor uploaded (and models trained in the app).

They live in that session's state, never in the cache shared by all sessions, so no other visitor
sees them and they go when the session goes. Nothing of them stays on the server's disk: an upload
is written to a private temporary folder only for `load_checkpoint` to validate it, then deleted.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from explorer.settings import settings
from explorer.state.session import ss
from vae import LatentModel, load_checkpoint
from vae.atlas import Atlas
from vae.catalog import CheckpointSummary, summarize_model

SESSION_MODELS = "session_models"  # choice key -> SessionModel, in st.session_state
CHOICE_PREFIX = "session:"
MAX_CHECKPOINT_MB = 20  # a d = 64 training run with its optimizer state and snapshots stays under


@dataclass(frozen=True)
class SessionModel:
    """One session's model, with its map when it has one (else why not)."""

    name: str
    model: LatentModel
    atlas: Atlas | None = None
    no_map_reason: str = ""

    @property
    def summary(self) -> CheckpointSummary:
        return summarize_model(self.model)


def server_paths_allowed() -> bool:
    """Typing a path on the server is the operator's choice: off unless the environment turns it on."""
    return settings().server_paths


def session_models() -> dict[str, SessionModel]:
    return ss.setdefault(SESSION_MODELS, {})


def session_keys() -> set[str]:
    """The Context keys of this session's own models (see model_picker)."""
    return {key.removeprefix(CHOICE_PREFIX) for key in session_models()}


def add_session_model(entry: SessionModel) -> str:
    """Register a model for this session only; returns its key in the model picker."""
    models = session_models()
    key = f"{CHOICE_PREFIX}{entry.name}"
    models[key] = entry
    return key


def load_uploaded_checkpoint(file_name: str, payload: bytes) -> LatentModel:
    """Validate an uploaded file exactly as a file on disk would be (load_checkpoint); CheckpointError if not.

    The bytes go to a private temporary folder that is removed before this returns, whatever happens.
    """
    name = Path(file_name).name or "uploaded.safetensors"
    with tempfile.TemporaryDirectory(prefix="vae-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        model = load_checkpoint(path)
    model.checkpoint_path = Path(name)  # what the page calls it; the temporary file is gone
    return model
