"""A session's side of the server's training and map queues, and how a finished job becomes a model in
its session's picker.

Both queues are st.cache_resource singletons shared by every session (they are the server's; the jobs
themselves are in explorer/jobs). A job's owner is its session id; Streamlit's runtime says whether that
session is still connected, so a closed tab cancels its job (after a grace period that rides out a
reconnect). Session state is only touched from script runs: a finished job is adopted by its own
session's next run (`adopt_finished`).
"""

from __future__ import annotations

import contextlib
import gc
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from explorer.jobs.files import forget_session, new_upload_folder, runs_folder, sessions_with_files
from explorer.jobs.maps import build_map, drop_unused_upload
from explorer.jobs.queue import Job, JobQueue, JobState, QueueRefused
from explorer.jobs.training import SharedData, train_job
from explorer.service.resources import LOG
from explorer.settings import settings
from explorer.state.session import ss
from explorer.state.session_models import SessionModel, add_session_model, session_models
from explorer.words.app import MAP_BEING_BUILT
from vae import load_checkpoint
from vae.atlas import AtlasError, atlas_path, load_atlas
from vae.checkpoint import export_checkpoint
from vae.data import load_mnist
from vae.quick_map import warm_up as warm_up_map

MAPS_PER_SESSION = 3  # maps one session may have waiting or being built
# A session not connected for this long is gone: its files are deleted (as server.disconnectedSessionTTL in
# .streamlit/config.toml, after which Streamlit drops its state). The janitor looks every JANITOR_EVERY_S.
GONE_AFTER_S = 60.0
JANITOR_EVERY_S = 15.0
TRAIN_JOB = "train_job"  # this session's training job id
TRAINED = "trained_models"  # job id (or "upload:" + picker key) → TrainedModel, this session's runs and uploads


@dataclass(frozen=True)
class TrainedModel:
    """A session model with a file on the server while its map is built: a run trained here, or an upload."""

    key: str  # its key in the picker
    checkpoint: Path  # the run's file (in the runs folder), or the upload's (in a private temporary folder)
    download: bytes  # the checkpoint without optimizer state, for the download button
    map_job: str | None  # the map being built, until it is adopted
    uploaded: bool = False  # an upload's files are never kept, whatever the runs folder
    download_name: str = ""  # the downloaded file's name: its settings, with the epochs it holds


_runtime_sessions: dict[str, str | None] = {}  # job owner → the runtime's id of its session (None: untracked)
_queues: list[JobQueue] = []  # the queues made so far (the janitor looks at these, and never makes one)
_gone_since: dict[str, float] = {}  # owner → when the janitor first saw it disconnected
_states: dict[str, tuple[Any, Any]] = {}  # owner → its session's state and fragments, until empty_state


def session_id() -> str:
    """This session's owner id for the queues: a token kept in its state. AppTest gives every session the
    same runtime id, so the runtime's id is only remembered for liveness, where the runtime tracks it."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    owner = ss.setdefault("train_owner", uuid.uuid4().hex)
    ctx = get_script_run_ctx(suppress_warning=True)
    # `is True`: AppTest's runtime is a stand-in whose answers are not booleans.
    tracked = ctx is not None and runtime.exists() and runtime.get_instance().is_active_session(ctx.session_id) is True
    _runtime_sessions[owner] = ctx.session_id if tracked else None
    if tracked and owner not in _states:
        # The SessionState the run's SafeSessionState wraps (not weak-referable), and the session's fragments.
        _states[owner] = (ctx.session_state._state, ctx.fragment_storage)
    return owner


def session_alive(owner: str) -> bool:
    """Whether a job's session is still connected (thread-safe in Streamlit's runtime). A session the runtime
    does not track (AppTest, a script run without a server) is never taken for gone."""
    from streamlit import runtime

    tracked = _runtime_sessions.get(owner)
    if tracked is None or not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(tracked) is True


def active_sessions() -> int:
    """Sessions seen by this server that are still connected (at least 1: the one asking)."""
    return max(1, sum(tracked is not None and session_alive(owner) for owner, tracked in _runtime_sessions.items()))


def visitor_id() -> str:
    """Who a training job counts against, whatever tab it came from (docs/serving.md): by default the
    browser, known by the XSRF cookie Streamlit gives it (every tab of a browser sends the same); with
    VAE_VISITOR_KEY=address, the client address the nginx recipe puts in X-Real-IP (a whole classroom
    behind one NAT address is then one visitor). Without either (AppTest), the session itself."""
    import hashlib

    if settings().visitor_key == "address":
        seen = st.context.headers.get("X-Real-IP") or st.context.ip_address
    else:
        seen = st.context.cookies.get("_streamlit_xsrf")
    if not seen:
        return session_id()
    return "visitor-" + hashlib.sha256(str(seen).encode()).hexdigest()[:16]


ALL_CORES = max(1, torch.get_num_threads())  # torch's default: one thread per physical core


def train_threads() -> int:
    """Torch threads for a training or map job, asked again before every epoch: the operator's setting if
    any; else one as soon as another session is connected, so the other cores answer their clicks
    (bench/train_live.py); else every core."""
    if settings().train_threads:
        return settings().train_threads
    return 1 if active_sessions() > 1 else ALL_CORES


_data_lock = threading.Lock()
_data: list[SharedData] = []


def training_data() -> SharedData:
    """One copy of MNIST for every job of every session, loaded by the first job's worker (never by a
    script run: the page stays quick, and a missing data set becomes that job's one-line failure)."""
    with _data_lock:
        if not _data:
            train = load_mnist("train", progress=LOG.info, allow_download=False)
            _data.append(SharedData(train, load_mnist("test", progress=LOG.info, allow_download=False)))
        return _data[0]


def run_training(job: Job) -> str:
    folder, kept = runs_folder(job.owner)
    return train_job(job, training_data(), folder, train_threads, keep_abandoned=kept)


def warm_up_trainer(queue: JobQueue) -> None:
    """What a first job would pay before its first step, paid while its user is still choosing settings:
    the shared MNIST, and torch's first optimizer, whose constructor imports torch._dynamo (about 1.2 s).
    Then, unless a job has started meanwhile (it would lose a core to this), the first map's 3 s."""
    try:
        training_data()
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
        if queue.counts() == (0, 0):
            warm_up_map()
    except Exception as exc:  # the job itself will meet the problem and report it as one line
        LOG.warning("warming up the trainer: %s", exc)


@st.cache_resource
def training_queue() -> JobQueue:
    queue = JobQueue(
        run_training,
        limit=settings().train_jobs,
        is_alive=session_alive,
        capacity=settings().train_queue,
    )
    threading.Thread(target=warm_up_trainer, args=(queue,), name="trainer-warm-up", daemon=True).start()
    _queues.append(queue)
    return queue


@st.cache_resource
def map_queue() -> JobQueue:
    # A session that trains two models in a row, or uploads one, has several maps to build: they wait their
    # turn, a few per session, so one visitor cannot fill the line.
    queue = JobQueue(
        partial(build_map, threads=train_threads),
        is_alive=session_alive,
        per_owner=MAPS_PER_SESSION,
        on_end=drop_unused_upload,
    )
    _queues.append(queue)
    return queue


def trained_models() -> dict[str, TrainedModel]:
    return ss.setdefault(TRAINED, {})


def checkpoint_download(checkpoint: Path) -> bytes:
    """The run as a file to keep: float32 weights and the history, no optimizer or RNG state."""
    with tempfile.TemporaryDirectory(prefix="vae-download-") as folder:
        path = Path(folder) / checkpoint.name
        export_checkpoint(checkpoint, path, dtype=torch.float32)
        return path.read_bytes()


def adopt_finished(job_id: str) -> TrainedModel | None:
    """Once per finished job with a result: the model joins this session's picker and its map starts."""
    if job_id in trained_models():
        return trained_models()[job_id]
    view = training_queue().view(job_id)
    if view is None or not view.finished or view.result is None:
        return None
    checkpoint = Path(view.result)
    model = load_checkpoint(checkpoint)
    # A cancelled run, or one stopped by a NaN, holds fewer epochs than were asked for: its names say so.
    stem = view.payload.file_stem(epochs_held=view.progress.epoch)
    name = f"{stem} ({job_id})"
    key = add_session_model(SessionModel(name=name, model=model, no_map_reason=MAP_BEING_BUILT))
    # Off the script run, also for a 2-D model (its map is its own plane, written in a second; its per-image
    # scores take a few more, which the page should not wait for).
    try:
        map_job: str | None = map_queue().submit(session_id(), checkpoint).id
    except QueueRefused as exc:  # this session's maps fill its share of the line
        map_job = None
        session_models()[key] = replace(session_models()[key], no_map_reason=f"No map: {exc}.")
    download = checkpoint_download(checkpoint)
    trained = TrainedModel(key, checkpoint, download, map_job, download_name=f"{stem}.safetensors")
    trained_models()[job_id] = trained
    return trained


def map_status(key: str) -> tuple[TrainedModel | None, float | None]:
    """For a session model: (its run, share of its map done) while the map is being built, else None. The
    map is adopted as soon as it is written; once the job ends (scores stored), the atlas is read again."""
    trained = next((t for t in trained_models().values() if t.key == key), None)
    if trained is None or trained.map_job is None:
        return trained, None
    view = map_queue().view(trained.map_job)
    if view is None:
        return trained, None
    entry = session_models().get(key)
    if not view.finished and view.result is None:
        return trained, (view.progress or 0.0) if view.state is JobState.RUNNING else 0.0
    if entry is not None and (view.state is JobState.DONE or (view.result is not None and entry.atlas is None)):
        try:
            session_models()[key] = replace(entry, atlas=load_atlas(trained.checkpoint), no_map_reason="")
        except (AtlasError, OSError) as exc:  # its files went with its session (sweep_gone_sessions)
            session_models()[key] = replace(entry, no_map_reason=f"No map: its files are gone ({exc}).")
    elif entry is not None and view.finished and entry.atlas is None:
        session_models()[key] = replace(entry, no_map_reason=f"No map: {view.message}")
    if view.finished:
        for job_id, other in trained_models().items():
            if other is trained:
                trained_models()[job_id] = replace(trained, map_job=None)
        forget_files(trained)
    return trained, None


def forget_files(trained: TrainedModel) -> None:
    """Once its session holds model, map and download, delete an upload's files, and a run's unless the
    operator keeps runs."""
    if trained.uploaded:  # its private folder, atlas included
        shutil.rmtree(trained.checkpoint.parent, ignore_errors=True)
    elif not runs_folder(session_id())[1]:
        for path in (trained.checkpoint, atlas_path(trained.checkpoint)):
            path.unlink(missing_ok=True)


def map_upload(key: str, file_name: str, payload: bytes) -> None:
    """Build an uploaded checkpoint's map as a trained model's is built: its bytes go to a private temporary
    folder for the map job, and are deleted with the atlas once the map has joined the session's model."""
    queue = map_queue()
    earlier = trained_models().pop(f"upload:{key}", None)  # the same file uploaded again: its map is this one
    if earlier is not None and earlier.map_job is not None:  # (a finished one's files went in map_status)
        queue.cancel(earlier.map_job, "uploaded again")  # its files go when it ends (drop_unused_upload)
    folder = new_upload_folder(session_id())
    checkpoint = folder / (Path(file_name).name or "uploaded.safetensors")
    checkpoint.write_bytes(payload)
    try:
        map_job = queue.submit(session_id(), checkpoint)
    except QueueRefused as exc:
        shutil.rmtree(folder, ignore_errors=True)
        entry = session_models()[key]
        session_models()[key] = replace(entry, no_map_reason=f"No map: {exc}; upload it again when they are done.")
        return
    trained_models()[f"upload:{key}"] = TrainedModel(key, checkpoint, b"", map_job.id, uploaded=True)


def adopt_own_finished() -> None:
    """Called by the picker on every run: a model that finished training while its session looked at
    another view joins the picker there too, and a map (or its scores) written meanwhile joins its model."""
    job_id = ss.get(TRAIN_JOB)
    if job_id and job_id not in trained_models():
        adopt_finished(job_id)
    for trained_id, trained in list(trained_models().items()):
        if trained.key not in session_models():  # let go to make room (add_session_model): its files too
            if trained.map_job is not None:
                map_queue().cancel(trained.map_job, "its model was let go")
            forget_files(trained)
            del trained_models()[trained_id]
        elif trained.map_job is not None:
            map_status(trained.key)


def sweep_gone_sessions(queues: tuple[JobQueue, ...], now: float | None = None) -> int:
    """Delete the files of every session gone for GONE_AFTER_S with no job waiting or running in `queues`,
    and forget it; returns how many went."""
    now = time.monotonic() if now is None else now
    busy = {job.owner for queue in queues for job in queue.unfinished()}
    gone = 0
    for owner in set(sessions_with_files()) | set(_runtime_sessions):
        if owner in busy or session_alive(owner):
            _gone_since.pop(owner, None)
            continue
        if now - _gone_since.setdefault(owner, now) >= GONE_AFTER_S:
            forget_session(owner)
            release_uploads(_runtime_sessions.pop(owner, None))
            empty_state(owner)
            _gone_since.pop(owner, None)
            gone += 1
    return gone


def release_uploads(runtime_id: str | None) -> None:
    """Streamlit keeps a session's uploaded files (and its media) until the session is shut down, which a
    session dropped after disconnectedSessionTTL never is: let them go."""
    from streamlit import runtime

    if runtime_id is None or not runtime.exists():
        return
    instance = runtime.get_instance()
    instance.uploaded_file_mgr.remove_session_files(runtime_id)
    instance.media_file_mgr.clear_session_refs(runtime_id)
    instance.media_file_mgr.remove_orphaned_files()


def empty_state(owner: str) -> None:
    """Streamlit's runtime loop keeps the last session it sent messages to referenced until it sends to
    another (the loop variable of Runtime._loop_coroutine): on a quiet server a closed tab's state and its
    fragments (whose arguments are models), would outlive the tab. Called once the session is gone (not connected for
    GONE_AFTER_S, the server's disconnectedSessionTTL): a reconnection after that is a new session anyway."""
    state, fragments = _states.pop(owner, (None, None))
    if state is not None:
        state.clear()
        state._new_widget_state.widget_metadata.clear()  # its callbacks' arguments: clear() leaves them
        fragments.clear()


def return_freed_memory() -> None:
    """Give the pages glibc keeps after a collection back to the system (hundreds of MB once a session's
    models and uploads are gone); nothing elsewhere."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError, TypeError):  # not glibc: nothing to do
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


@st.cache_resource
def janitor() -> threading.Thread:
    """The server's one janitor thread (app.py starts it): every JANITOR_EVERY_S, sweep_gone_sessions over
    the queues that exist. After a session went, a full garbage collection on the next few rounds (its
    models can sit in reference cycles, and an idle server allocates too little for Python's own collector
    ever to run), and the freed memory back to the system."""

    def work() -> None:
        collections_due = 0
        while True:
            time.sleep(JANITOR_EVERY_S)
            try:
                if sweep_gone_sessions(tuple(_queues)):
                    collections_due = 1 + round(GONE_AFTER_S / JANITOR_EVERY_S)  # until Streamlit drops its state
                if collections_due:
                    collections_due -= 1
                    gc.collect()
                    return_freed_memory()
            except Exception:  # the janitor must outlive any one problem
                LOG.exception("sweeping gone sessions")

    thread = threading.Thread(target=work, name="session-janitor", daemon=True)
    thread.start()
    return thread
