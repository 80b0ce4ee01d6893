"""The sidebar's model picker, and the Context it hands to every view: the model, its map and the listing."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from explorer.context import Context
from explorer.jobs.heavy_work import ServerBusy, heavy_work
from explorer.service.jobs import adopt_own_finished, map_upload
from explorer.service.resources import cached_atlas, model_at
from explorer.state.code_range import code_extent
from explorer.state.session import ACTIVE_MODEL, MODEL_CHOICE, guarded, ss
from explorer.state.session_models import (
    CHOICE_PREFIX,
    DROPPED,
    MAX_CHECKPOINT_MB,
    MAX_SESSION_MODELS,
    SessionModel,
    add_session_model,
    load_uploaded_checkpoint,
    server_paths_allowed,
    session_models,
)
from explorer.words.app import CAPTION_SERVER_PATH, CAPTION_UPLOAD, LET_GO, MAP_BEING_BUILT, UPLOAD_HELP
from explorer.words.catalog import describe, model_facts
from explorer.words.plain import plain
from vae import CheckpointError
from vae.atlas import AtlasError, atlas_path
from vae.catalog import CheckpointListing, file_stamp, list_checkpoints, state_key, summarize_model
from vae.paths import checkpoint_dir

UPLOAD = "__upload__"
SERVER_PATH = "__server_path__"
UPLOAD_KEY = "checkpoint_upload"
UPLOAD_ERROR = "checkpoint_upload_error"


def forget_upload(upload: object) -> None:
    """Drop Streamlit's copy of an uploaded file (up to 20 MB a checkpoint, kept per session otherwise)."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    file_id = getattr(upload, "file_id", None)
    if ctx is not None and file_id and runtime.exists():
        runtime.get_instance().uploaded_file_mgr.remove_file(ctx.session_id, file_id)


@guarded
def take_upload() -> None:
    """The uploader's callback: validate the file, make it this session's model, or say why not."""
    upload = ss.get(UPLOAD_KEY)
    if upload is None:
        return
    payload = upload.getvalue()
    forget_upload(upload)  # the bytes are in hand: Streamlit would keep its copy until the session ends
    try:
        with heavy_work("checking a checkpoint"):
            model = load_uploaded_checkpoint(upload.name, payload)
    except (CheckpointError, ServerBusy) as exc:
        keeping = " Still showing the previous model." if ss.get(ACTIVE_MODEL) else ""
        ss[UPLOAD_ERROR] = f"{plain(str(exc).rstrip('.'))}.{keeping}"
        return
    name = model.checkpoint_path.name
    key = add_session_model(SessionModel(name=name, model=model, no_map_reason=MAP_BEING_BUILT))
    map_upload(key, upload.name, payload)  # built off the page, as a trained model's
    ss[MODEL_CHOICE] = key


def choose(listing: CheckpointListing, mine: dict[str, SessionModel]) -> str | None:
    """The sidebar's radio and what goes with the choice; returns the key of a model to show, if any."""
    bar = st.sidebar
    shipped = {str(c.path): c for c in listing.checkpoints}
    extra = [UPLOAD, SERVER_PATH] if server_paths_allowed() else [UPLOAD]
    options = [*shipped, *mine, *extra]
    if ss.get(MODEL_CHOICE) not in options:  # first visit, a removed file, or a session model from before a restart
        ss[MODEL_CHOICE] = options[0]
    labels = {UPLOAD: "Upload a checkpoint…", SERVER_PATH: "A path on this server…"}
    labels |= {key: path.name for key, path in ((k, c.path) for k, c in shipped.items())}
    labels |= {key: f"{plain(entry.name, 80)} (yours)" for key, entry in mine.items()}
    captions = [describe(c) for c in shipped.values()]
    captions += [plain(describe(entry.summary)) for entry in mine.values()]
    captions += [CAPTION_UPLOAD, CAPTION_SERVER_PATH][: len(extra)]
    choice = bar.radio(
        "Model", options, key=MODEL_CHOICE, persist_state="session", format_func=labels.get, captions=captions
    )
    if choice == UPLOAD:
        bar.file_uploader(
            "Checkpoint file",
            type=["safetensors"],
            key=UPLOAD_KEY,
            max_upload_size=MAX_CHECKPOINT_MB,
            on_change=take_upload,
            help=UPLOAD_HELP,
        )
        if message := ss.pop(UPLOAD_ERROR, None):
            bar.error(message)
        return None
    if choice == SERVER_PATH:
        typed = bar.text_input(
            "Checkpoint path", key="custom_path", placeholder="/path/to/model.safetensors", persist_state="session"
        )
        return str(Path(typed.strip()).expanduser()) if typed and typed.strip() else None
    return choice


def model_picker() -> Context | None:
    """The sidebar: pick a shipped checkpoint, upload one, or (if the operator allows) give a server path;
    None while there is no model to show."""
    bar = st.sidebar
    listing = list_checkpoints(checkpoint_dir())
    adopt_own_finished()
    mine = session_models()
    candidate = choose(listing, mine)
    if dropped := ss.pop(DROPPED, None):
        bar.info(LET_GO.format(names=plain(", ".join(dropped)), most=MAX_SESSION_MODELS), icon=":material/delete:")
    for message in listing.skipped:
        bar.caption(f"Skipped: {plain(message)}")
    if candidate and candidate not in mine:
        try:
            model_at(candidate)
            ss[ACTIVE_MODEL] = candidate
        except CheckpointError as exc:
            keeping = " Still showing the previous model." if ss.get(ACTIVE_MODEL) else ""
            bar.error(f"{plain(exc)}.{keeping}")
    elif candidate:
        ss[ACTIVE_MODEL] = candidate
    active = ss.get(ACTIVE_MODEL)
    if not active:
        return None
    if active in mine:
        entry = mine[active]
        model, atlas, atlas_error, summary = entry.model, entry.atlas, entry.no_map_reason or None, entry.summary
        name = entry.name
        if atlas is not None:
            atlas_error = None
    else:
        try:
            model = model_at(active)
        except CheckpointError as exc:  # the file vanished or changed into something unreadable
            bar.error(plain(exc))
            ss.pop(ACTIVE_MODEL, None)
            return None
        summary = summarize_model(model)
        name = summary.name
        try:
            atlas, atlas_error = cached_atlas(file_stamp(active), file_stamp(atlas_path(active))), None
        except AtlasError as exc:
            atlas, atlas_error = None, str(exc)
    with bar.expander(f"About {plain(name, 80)}", expanded=False):
        st.markdown("\n".join(f"- **{fact}**: {plain(value)}" for fact, value in model_facts(model.meta)))
    mu = atlas.mu if atlas is not None else None
    return Context(
        model=model,
        summary=summary,
        listing=listing,
        atlas=atlas,
        atlas_error=atlas_error,
        key=state_key(active) if active not in mine else active.removeprefix(CHOICE_PREFIX),
        extent=code_extent(mu),
        name=name,
    )
