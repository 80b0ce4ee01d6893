"""The sidebar's model picker, and the Context it hands to every view: the model, its map and the listing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from explorer.catalog_text import describe, model_facts
from explorer.resources import cached_atlas, model_at
from explorer.slider_values import slider_extent
from explorer.state import slider_key, ss
from vae import CheckpointError, LatentModel
from vae.atlas import Atlas, AtlasError, atlas_path
from vae.catalog import CheckpointListing, CheckpointSummary, file_stamp, list_checkpoints, state_key, summarize_model
from vae.paths import checkpoint_dir

OTHER_FILE = "__other__"


@dataclass(frozen=True)
class Context:
    """What every view gets: the current model, its map (or why there is none) and the listing."""

    model: LatentModel
    summary: CheckpointSummary
    listing: CheckpointListing
    atlas: Atlas | None
    atlas_error: str | None
    key: str  # namespaces this model's widgets (other models have other slider ranges)
    extent: float  # slider range ±extent

    @property
    def is_vae(self) -> bool:
        return self.summary.kind == "vae"

    def slider_key(self, dim: int) -> str:
        return slider_key(self.key, dim)


def model_picker() -> Context | None:
    """The sidebar: pick a shipped checkpoint or another file; None while there is no model to show."""
    bar = st.sidebar
    listing = list_checkpoints(checkpoint_dir())
    by_path = {str(c.path): c for c in listing.checkpoints}
    options = [*by_path, OTHER_FILE]
    if ss.get("model_choice") not in options:  # first visit, or the chosen file was removed
        ss["model_choice"] = options[0]
    choice = bar.radio(
        "Model",
        options,
        key="model_choice",
        persist_state="session",
        format_func=lambda o: by_path[o].name if o in by_path else "Another file…",
        captions=[*(describe(c) for c in listing.checkpoints), "a checkpoint path on this machine"],
    )
    candidate = choice
    if choice == OTHER_FILE:
        typed = bar.text_input(
            "Checkpoint path", key="custom_path", placeholder="/path/to/model.safetensors", persist_state="session"
        )
        candidate = str(Path(typed.strip()).expanduser()) if typed and typed.strip() else None
    for message in listing.skipped:
        bar.caption(f"Skipped: {message}")
    if candidate:
        try:
            model_at(candidate)
            ss["active_model"] = candidate
        except CheckpointError as exc:
            keeping = " Still showing the previous model." if ss.get("active_model") else ""
            bar.error(f"{exc}.{keeping}")
    active = ss.get("active_model")
    if not active:
        return None
    try:
        model = model_at(active)
    except CheckpointError as exc:  # the file vanished or changed into something unreadable
        bar.error(str(exc))
        ss.pop("active_model", None)
        return None
    summary = summarize_model(model)
    with bar.expander(f"About {summary.name}", expanded=False):
        st.markdown("\n".join(f"- **{name}**: {value}" for name, value in model_facts(model.meta)))
    try:
        atlas, atlas_error = cached_atlas(file_stamp(active), file_stamp(atlas_path(active))), None
    except AtlasError as exc:
        atlas, atlas_error = None, str(exc)
    mu = atlas.mu if atlas is not None else None
    return Context(
        model=model,
        summary=summary,
        listing=listing,
        atlas=atlas,
        atlas_error=atlas_error,
        key=state_key(active),
        extent=slider_extent(summary.kind, mu),
    )
