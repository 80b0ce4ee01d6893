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
DROPPED = "session_models_dropped"  # names of models let go to make room, said once in the sidebar
# What one session may hold of its own models (uploads and runs trained here): every session's are in
# this server's memory, so the oldest goes when a new one would pass either bound.
MAX_SESSION_MODELS = 4
MAX_SESSION_MODEL_MB = 150
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


def model_megabytes(model: LatentModel) -> float:
    return sum(t.numel() * t.element_size() for t in model.state_dict().values()) / 2**20


def add_session_model(entry: SessionModel) -> str:
    """Register a model for this session only; returns its key in the model picker. The oldest of this
    session's models go while there would be more than MAX_SESSION_MODELS or MAX_SESSION_MODEL_MB."""
    models = session_models()
    key = f"{CHOICE_PREFIX}{entry.name}"
    models.pop(key, None)  # the same name again: it is the newest now
    models[key] = entry
    while len(models) > 1 and (
        len(models) > MAX_SESSION_MODELS
        or sum(model_megabytes(m.model) for m in models.values()) > MAX_SESSION_MODEL_MB
    ):
        oldest = next(iter(models))
        ss.setdefault(DROPPED, []).append(models.pop(oldest).name)
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
