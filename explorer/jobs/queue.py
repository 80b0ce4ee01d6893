"""Training jobs off the request path: a queue with a per-server limit, one worker thread per running job.

Plain Python (no Streamlit): the Train view submits a job and polls `TrainingJob.view()`; the worker
writes progress, per-epoch history, the panel's reconstructions and (d = 2) the test codes into the job
under its lock. A thread is enough: torch releases the GIL inside its operations, so the sessions'
script runs keep going while a job trains.

- At most `limit` jobs run at once (default 1, env VAE_TRAIN_JOBS); the others wait in order and know
  their position. A session has at most `per_owner` jobs waiting or running (training: one).
- Cancelling is an event the trainer checks after every batch; a job whose owner (a session) has been
  gone for `grace_s` seconds is cancelled the same way, whether it runs or waits.
- The outcome of a run is a state and a one-line message: done, cancelled, diverged (NaN: the last good
  epoch is kept) or failed (any other exception: the traceback goes to the server log, the slot is freed).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vae.training import TrainingDiverged

LIMIT_ENV = "VAE_TRAIN_JOBS"
SESSION_CLOSED = "its session was closed"
log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    DIVERGED = "diverged"
    FAILED = "failed"


FINISHED = frozenset({JobState.DONE, JobState.CANCELLED, JobState.DIVERGED, JobState.FAILED})


class JobCancelled(Exception):
    """Raised inside the worker at the next batch after a cancel."""


class QueueRefused(Exception):
    """A job that cannot be queued (the session already has one); the message says why."""


def job_limit_from_env(default: int = 1) -> int:
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise ValueError(f"{LIMIT_ENV} must be a whole number of jobs, not {raw!r}") from None
    if limit < 1:
        raise ValueError(f"{LIMIT_ENV} must be at least 1, not {limit}")
    return limit


@dataclass(frozen=True)
class EpochResult:
    """What one finished epoch adds to the job's record (epoch 0: the model before training)."""

    epoch: int
    history: dict[str, Any] | None  # {"epoch", "train": {recon, kl, total}, "test": {...}, "seconds"}
    panel: Any  # uint8 [P, 28, 28]: the fixed panel's reconstructions
    codes: tuple[Any, Any] | None = None  # (μ, log σ²) of the shown test digits, d = 2 only
    result: Any = None  # what the run has produced so far (the app: the checkpoint file of its last good epoch)


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job for one script run to draw."""

    id: str
    settings: Any
    state: JobState
    message: str
    position: int  # 0 running or finished, n ≥ 1: n-th in the queue
    epoch: int  # epochs finished
    epoch_fraction: float  # share of the current epoch done
    history: list[dict[str, Any]]
    panels: list[tuple[int, Any]]
    codes: list[tuple[int, tuple[Any, Any]]]
    result: Any
    seconds: float  # since the job started running (0 while queued)
    training_seconds: float  # since its first report (epoch 0, the model before training): the steps' own time

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


@dataclass(eq=False)
class TrainingJob:
    id: str
    owner: str
    settings: Any
    state: JobState = JobState.QUEUED
    message: str = ""
    epoch: int = 0
    epoch_fraction: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    panels: list[tuple[int, Any]] = field(default_factory=list)
    codes: list[tuple[int, tuple[Any, Any]]] = field(default_factory=list)
    result: Any = None
    started: float = 0.0
    first_report: float = 0.0  # when report_epoch was first called
    ended: float = 0.0
    cancel_reason: str = ""
    _cancel: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _owner_check: Callable[[], bool] = lambda: False  # set by the queue: True once the owner is gone
    _next_owner_check: float = 0.0

    # ------------------------------------------------------------ called by the trainer (worker thread)

    def raise_if_cancelled(self) -> None:
        """The trainer's check after every batch; the owner's liveness is asked at most once a second."""
        now = time.monotonic()
        if now >= self._next_owner_check:
            self._next_owner_check = now + 1.0
            if self._owner_check():
                self.cancel(SESSION_CLOSED)
        if self._cancel.is_set():
            raise JobCancelled(self.cancel_reason)

    def report_batch(self, epoch: int, done: int, total: int) -> None:
        with self._lock:
            self.epoch_fraction = done / max(total, 1)

    def report_epoch(self, result: EpochResult) -> None:
        with self._lock:
            self.first_report = self.first_report or time.monotonic()
            self.epoch = result.epoch
            self.epoch_fraction = 0.0
            if result.history is not None:
                self.history.append(result.history)
            self.panels.append((result.epoch, result.panel))
            if result.codes is not None:
                self.codes.append((result.epoch, result.codes))
            if result.result is not None:
                self.result = result.result

    # ------------------------------------------------------------ called by anyone

    def cancel(self, reason: str = "cancelled") -> None:
        if not self.cancel_reason:
            self.cancel_reason = reason
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def abandoned(self) -> bool:
        """Cancelled because no one is there to take the result."""
        return self._cancel.is_set() and self.cancel_reason == SESSION_CLOSED

    def _finish(self, state: JobState, message: str) -> None:
        with self._lock:
            self.state, self.message, self.ended = state, message, time.monotonic()


def cancelled_message(job: TrainingJob) -> str:
    """Counted as the progress line counts: "Epoch 2 of 3" is the second epoch, under way."""
    if job.epoch_fraction > 0:
        when = f"during epoch {job.epoch + 1}"
    else:
        when = f"after epoch {job.epoch}" if job.epoch > 0 else "before its first step"
    kept = f"; epoch {job.epoch} is kept" if job.result is not None and job.epoch > 0 else "; no epoch had finished"
    return f"Cancelled {when} ({job.cancel_reason}){kept}."


class TrainingQueue:
    """Runs `train(job)` for submitted jobs, at most `limit` at a time, in submission order.

    `is_alive(owner)` says whether a job's owner (a session id) is still there; `train` reports through
    the job and calls `job.raise_if_cancelled()` after every batch. An owner with `per_owner` jobs waiting
    or running is refused another (training: one at a time; maps: a few, which wait their turn).
    `on_end(job)` is called once for every job that ends, whether it ran or was dropped while waiting.
    """

    def __init__(
        self,
        train: Callable[[TrainingJob], None],
        limit: int | None = None,
        is_alive: Callable[[str], bool] = lambda owner: True,
        grace_s: float = 15.0,
        per_owner: int = 1,
        on_end: Callable[[TrainingJob], None] = lambda job: None,
    ) -> None:
        self.limit = job_limit_from_env() if limit is None else limit
        self.per_owner = per_owner
        self._on_end = on_end
        if self.limit < 1:
            raise ValueError("the job limit must be at least 1")
        self._train = train
        self._is_alive = is_alive
        self._grace_s = grace_s
        self._lock = threading.RLock()
        self._waiting: list[TrainingJob] = []
        self._running: dict[str, threading.Thread] = {}
        self._jobs: dict[str, TrainingJob] = {}
        self._last_seen: dict[str, float] = {}
        self._ids = itertools.count(1)
        self.peak_running = 0  # the most jobs ever running at once (the limit's witness)

    # ------------------------------------------------------------ sessions

    def submit(self, owner: str, settings: Any) -> TrainingJob:
        with self._lock:
            if sum(job.owner == owner and job.state not in FINISHED for job in self._jobs.values()) >= self.per_owner:
                if self.per_owner == 1:
                    raise QueueRefused("this session already has a model in training: cancel it or let it finish")
                raise QueueRefused(f"this session already has {self.per_owner} jobs waiting or running")
            self._forget_old()
            job = TrainingJob(id=f"job-{next(self._ids)}", owner=owner, settings=settings)
            job._owner_check = lambda: self._owner_gone(owner)
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._dispatch()
            return job

    def get(self, job_id: str) -> TrainingJob | None:
        return self._jobs.get(job_id)

    def cancel(self, job_id: str, reason: str = "cancelled") -> None:
        """Cancel a job: one waiting is dropped at once, one running stops at its next batch."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in FINISHED:
                return
            job.cancel(reason)
            if job in self._waiting:
                self._waiting.remove(job)
                job._finish(JobState.CANCELLED, f"Cancelled before it started ({job.cancel_reason}).")
                self._ended(job)
                self._dispatch()

    def view(self, job_id: str) -> JobView | None:
        job = self._jobs.get(job_id)
        if job is None:
            return None
        with self._lock:
            self._drop_abandoned()
            position = self._waiting.index(job) + 1 if job in self._waiting else 0
        with job._lock:
            now = job.ended or time.monotonic()
            seconds = now - job.started if job.started else 0.0
            training_seconds = now - job.first_report if job.first_report else 0.0
            return JobView(
                id=job.id,
                settings=job.settings,
                state=job.state,
                message=job.message,
                position=position,
                epoch=job.epoch,
                epoch_fraction=job.epoch_fraction,
                history=list(job.history),
                panels=list(job.panels),
                codes=list(job.codes),
                result=job.result,
                seconds=seconds,
                training_seconds=training_seconds,
            )

    def unfinished(self) -> list[TrainingJob]:
        """The jobs waiting or running now."""
        with self._lock:
            return [job for job in self._jobs.values() if job.state not in FINISHED]

    def counts(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._lock:
            return len(self._running), len(self._waiting)

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until no job runs or waits (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                threads = list(self._running.values())
                if not threads and not self._waiting:
                    return True
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        return False

    # ------------------------------------------------------------ internals

    def _owner_gone(self, owner: str) -> bool:
        now = time.monotonic()
        try:
            alive = self._is_alive(owner)
        except Exception:  # a liveness probe that fails must not kill the job: count it as alive
            log.exception("liveness check of %s failed", owner)
            alive = True
        if alive:
            self._last_seen[owner] = now
            return False
        return now - self._last_seen.setdefault(owner, now) > self._grace_s

    def _forget_old(self, keep_s: float = 3600.0) -> None:
        """Drop jobs finished long ago: their sessions took the result when they saw it finish."""
        now = time.monotonic()
        for job_id, job in list(self._jobs.items()):
            if job.state in FINISHED and now - job.ended > keep_s:
                del self._jobs[job_id]

    def _drop_abandoned(self) -> None:
        for job in list(self._waiting):
            if self._owner_gone(job.owner):
                self._waiting.remove(job)
                job.cancel(SESSION_CLOSED)
                job._finish(JobState.CANCELLED, f"Cancelled before it started ({SESSION_CLOSED}).")
                self._ended(job)

    def _ended(self, job: TrainingJob) -> None:
        try:
            self._on_end(job)
        except Exception:  # tidying up after a job must not break the queue
            log.exception("after job %s ended", job.id)

    def _dispatch(self) -> None:
        with self._lock:
            self._drop_abandoned()
            while self._waiting and len(self._running) < self.limit:
                job = self._waiting.pop(0)
                with job._lock:
                    job.state, job.started = JobState.RUNNING, time.monotonic()
                thread = threading.Thread(target=self._work, args=(job,), name=f"training-{job.id}", daemon=True)
                self._running[job.id] = thread
                self.peak_running = max(self.peak_running, len(self._running))
                thread.start()

    def _work(self, job: TrainingJob) -> None:
        outcome = JobState.FAILED, "Training stopped unexpectedly."
        try:
            job.raise_if_cancelled()
            self._train(job)
            outcome = JobState.DONE, f"Trained {job.epoch} epoch{'' if job.epoch == 1 else 's'}."
        except JobCancelled:
            outcome = JobState.CANCELLED, cancelled_message(job)
        except TrainingDiverged as error:
            outcome = JobState.DIVERGED, f"Stopped: {error}"
        except Exception as error:  # a crash must free the slot and reach the user as one line
            log.exception("training job %s crashed", job.id)
            outcome = JobState.FAILED, f"Training failed: {type(error).__name__}: {error}".splitlines()[0]
        finally:
            with self._lock:  # finished and slot freed in one step: no one sees a finished job holding a slot
                job._finish(*outcome)
                self._running.pop(job.id, None)
                self._dispatch()
            self._ended(job)
