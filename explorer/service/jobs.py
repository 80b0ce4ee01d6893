"""The server's training and map queues, and how a finished job becomes a model in its session's picker.

Both queues are st.cache_resource singletons shared by every session (they are the server's). A job's
owner is its session id; Streamlit's runtime says whether that session is still connected, so a closed
tab cancels its job (after a grace period that rides out a reconnect). Session state is only touched
from script runs: a finished job is adopted by its own session's next run (`adopt_finished`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import streamlit as st
import torch

from explorer.cpu_share import CpuShare
from explorer.live_training import SharedData, runs_folder, train_job
from explorer.resources import LOG
from explorer.session_models import SessionModel, add_session_model, session_models
from explorer.state import ss
from explorer.text import MAP_BEING_BUILT
from explorer.training_jobs import EpochResult, JobState, QueueRefused, TrainingJob, TrainingQueue
from vae import load_checkpoint
from vae.atlas import AtlasError, add_scores, atlas_path, build_atlas, load_atlas
from vae.checkpoint import export_checkpoint
from vae.data import load_mnist
from vae.quick_map import quick_map_2d
from vae.quick_map import warm_up as warm_up_map

THREADS_ENV = "VAE_TRAIN_THREADS"  # torch threads of a training job (its own thread's setting only); default auto
UPLOAD_MAP_PREFIX = "vae-upload-map-"  # an uploaded checkpoint's private folder while its map is built
# A run's files, or an upload's folder, that no job uses and no session adopted for this long are deleted.
STALE_FILES_S = 3600.0
MAPS_PER_SESSION = 3  # maps one session may have waiting or being built
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


def session_id() -> str:
    """This session's owner id for the queues: a token kept in its state. AppTest gives every session the
    same runtime id, so the runtime's id is only remembered for liveness, where the runtime tracks it."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    owner = ss.setdefault("train_owner", uuid.uuid4().hex)
    ctx = get_script_run_ctx(suppress_warning=True)
    tracked = ctx is not None and runtime.exists() and runtime.get_instance().is_active_session(ctx.session_id)
    _runtime_sessions[owner] = ctx.session_id if tracked else None
    return owner


def session_alive(owner: str) -> bool:
    """Whether a job's session is still connected (thread-safe in Streamlit's runtime). A session the runtime
    does not track (AppTest, a script run without a server) is never taken for gone."""
    from streamlit import runtime

    tracked = _runtime_sessions.get(owner)
    if tracked is None or not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(tracked)


def active_sessions() -> int:
    """Sessions connected to this server now (1 where the runtime cannot say: AppTest, a bare script)."""
    from streamlit import runtime

    if not runtime.exists():
        return 1
    try:  # the runtime's session manager has no public count
        return int(runtime.get_instance()._session_mgr.num_active_sessions())
    except (AttributeError, TypeError, ValueError):
        return 1


ALL_CORES = max(1, torch.get_num_threads())  # torch's default: one thread per physical core


def train_threads(share: CpuShare | None = None) -> int:
    """Torch threads for a training job, asked again before every epoch and every second within one:
    VAE_TRAIN_THREADS if set; else one as soon as another session is connected, so the other cores answer
    their clicks (bench/train_live.py); else every core that other processes leave free (`share`, the
    job's own look at the machine: a browser on the same laptop takes one), at least one."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        return max(1, int(raw))
    if active_sessions() > 1:
        return 1
    others = share.others_busy() if share is not None else None
    if others is None:
        return ALL_CORES
    return max(1, min(ALL_CORES, int(ALL_CORES - others + 0.5)))


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


def run_training(job: TrainingJob) -> None:
    folder, kept = runs_folder()
    if not kept:
        sweep_stale_runs(folder)
    train_job(job, training_data(), folder, partial(train_threads, CpuShare()), keep_abandoned=kept)


def warm_up_trainer(queue: TrainingQueue) -> None:
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
def training_queue() -> TrainingQueue:
    queue = TrainingQueue(run_training, is_alive=session_alive)
    threading.Thread(target=warm_up_trainer, args=(queue,), name="trainer-warm-up", daemon=True).start()
    return queue


def build_map(job: TrainingJob) -> None:
    """A map job: the quick t-SNE of a trained checkpoint's test codes (a 2-D model's codes are their own
    map), written as its atlas, which the views show at once (the job's result); then each test digit's
    score, for the digit view's percentiles."""

    checkpoint: Path = job.settings
    # A trained run has one map to make; an uploaded run file may have a snapshot map per kept epoch too:
    # the progress bar runs once over all of them.
    done, count = 0, 1

    def on_map(index: int, maps: int) -> None:
        nonlocal done, count
        done, count = index, maps

    def progress(share: float) -> None:
        job.report_batch(1, round((done + share) / count * 1000), 1000)
        job.raise_if_cancelled()

    mapper = partial(quick_map_2d, progress=progress, threads=train_threads())
    build_atlas(checkpoint, seed=0, log=LOG.info, mapper=mapper, scores=False, on_map=on_map)
    job.report_epoch(EpochResult(1, None, None, result=atlas_path(checkpoint)))
    job.raise_if_cancelled()
    add_scores(checkpoint, log=LOG.info)


def drop_unused_upload(job: TrainingJob) -> None:
    """The map queue's on_end: an upload's files that no session will adopt (the map was cancelled, failed,
    or dropped while waiting) are deleted at once; adopted ones go in forget_files."""
    checkpoint: Path = job.settings
    if job.state is not JobState.DONE and checkpoint.parent.name.startswith(UPLOAD_MAP_PREFIX):
        shutil.rmtree(checkpoint.parent, ignore_errors=True)


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


@st.cache_resource
def map_queue() -> TrainingQueue:
    # A session that trains two models in a row, or uploads one, has several maps to build: they wait their
    # turn, a few per session, so one visitor cannot fill the line.
    return TrainingQueue(
        build_map, limit=1, is_alive=session_alive, per_owner=MAPS_PER_SESSION, on_end=drop_unused_upload
    )


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
    stem = view.settings.file_stem(epochs_held=view.epoch)
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
        return trained, view.epoch_fraction if view.state is JobState.RUNNING else 0.0
    if entry is not None and (view.state is JobState.DONE or (view.result is not None and entry.atlas is None)):
        try:
            session_models()[key] = replace(entry, atlas=load_atlas(trained.checkpoint), no_map_reason="")
        except (AtlasError, OSError) as exc:  # its files were swept after an hour away (sweep_stale_uploads)
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
    elif not runs_folder()[1]:
        for path in (trained.checkpoint, atlas_path(trained.checkpoint)):
            path.unlink(missing_ok=True)


def map_upload(key: str, file_name: str, payload: bytes) -> None:
    """Build an uploaded checkpoint's map as a trained model's is built: its bytes go to a private temporary
    folder for the map job, and are deleted with the atlas once the map has joined the session's model."""
    queue = map_queue()
    earlier = trained_models().pop(f"upload:{key}", None)  # the same file uploaded again: its map is this one
    if earlier is not None and earlier.map_job is not None:  # (a finished one's files went in map_status)
        queue.cancel(earlier.map_job, "uploaded again")  # its files go when it ends (drop_unused_upload)
    sweep_stale_uploads({Path(job.settings).parent for job in queue.unfinished()})
    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_MAP_PREFIX))
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
    for trained in list(trained_models().values()):
        if trained.map_job is not None:
            map_status(trained.key)
