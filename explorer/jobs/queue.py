"""Background jobs off the request path: a queue with a per-server limit, one worker thread per running job.

Plain Python (no Streamlit). A job is a payload and a work function; what it has done so far is its
`progress`, a value the queue never looks into (training publishes epochs and curves, a map a share),
and what it produced is its `result`. Pages submit a job and poll `JobQueue.view()`. A thread is
enough: torch releases the GIL inside its operations, so the sessions' script runs keep going.

- At most `limit` jobs run at once; the others wait in order and know their position. An owner (or the
  visitor it belongs to: several tabs of one browser) has at most `per_owner` jobs waiting or running,
  and the queue holds at most `capacity` in all.
- Cancelling is an event the work checks (`raise_if_cancelled`); a job whose owner has been gone for
  `grace_s` seconds is cancelled the same way, whether it runs or waits.
- The outcome is a state and a one-line message: done (the work's own line), cancelled, or failed
  (JobFailed: the work's own line; any other exception: the traceback goes to the server log).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SESSION_CLOSED = "its session was closed"
log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


FINISHED = frozenset({JobState.DONE, JobState.CANCELLED, JobState.FAILED})


class JobCancelled(Exception):
    """Raised inside the work at its next check after a cancel; its text, if any, is the whole message."""


class JobFailed(Exception):
    """A failure the work explains itself: str() is the one line its owner reads."""


class QueueRefused(Exception):
    """A job that cannot be queued (its owner has enough, or the queue is full); the message says why."""


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job for one script run to draw."""

    id: str
    payload: Any
    state: JobState
    message: str
    position: int  # 0 running or finished, n ≥ 1: n-th in the queue
    progress: Any  # what the work last published
    result: Any
    seconds: float  # since the job started running (0 while queued)
    at: float  # the monotonic moment this copy describes (the job's end, once it ended)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


@dataclass(eq=False)
class Job:
    id: str
    owner: str  # whose job it is (a session): its liveness decides whether the job goes on
    payload: Any
    visitor: str = ""  # who it counts against (several sessions of one browser); the owner if empty
    state: JobState = JobState.QUEUED
    message: str = ""
    progress: Any = None
    result: Any = None
    started: float = 0.0
    ended: float = 0.0
    cancel_reason: str = ""
    _cancel: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _owner_check: Callable[[], bool] = lambda: False  # set by the queue: True once the owner is gone
    _next_owner_check: float = 0.0

    # ------------------------------------------------------------ called by the work (worker thread)

    def raise_if_cancelled(self) -> None:
        """The work's check (training: after every batch); the owner's liveness is asked at most once a second."""
        now = time.monotonic()
        if now >= self._next_owner_check:
            self._next_owner_check = now + 1.0
            if self._owner_check():
                self.cancel(SESSION_CLOSED)
        if self._cancel.is_set():
            raise JobCancelled()

    def publish(self, progress: Any, result: Any = None) -> None:
        """Replace what the job has done so far (an immutable value), and its result when one is given."""
        with self._lock:
            self.progress = progress
            if result is not None:
                self.result = result

    # ------------------------------------------------------------ called by anyone

    def cancel(self, reason: str = "cancelled") -> None:
        if not self.cancel_reason:
            self.cancel_reason = reason
        self._cancel.set()

    @property
    def abandoned(self) -> bool:
        """Cancelled because no one is there to take the result."""
        return self._cancel.is_set() and self.cancel_reason == SESSION_CLOSED

    def _finish(self, state: JobState, message: str) -> None:
        with self._lock:
            self.state, self.message, self.ended = state, message, time.monotonic()


class JobQueue:
    """Runs `work(job)` for submitted jobs, at most `limit` at a time, in submission order.

    `work` publishes through the job, calls `job.raise_if_cancelled()` often, and returns the line said
    when it is done. `is_alive(owner)` says whether a job's owner is still there. An owner with
    `per_owner` jobs waiting or running is refused another, and so is anyone once `capacity` jobs wait or
    run. A cancel is said in the work's own words where it gives some (JobCancelled's text: training says
    which epoch is kept). `on_end(job)` is called once for every job that ends, whether it ran or was
    dropped while waiting.
    """

    def __init__(
        self,
        work: Callable[[Job], str],
        limit: int = 1,
        is_alive: Callable[[str], bool] = lambda owner: True,
        grace_s: float = 15.0,
        per_owner: int = 1,
        capacity: int | None = None,
        on_end: Callable[[Job], None] = lambda job: None,
    ) -> None:
        if limit < 1:
            raise ValueError("the job limit must be at least 1")
        self.limit = limit
        self.per_owner = per_owner
        self.capacity = capacity
        self._on_end = on_end
        self._work_of = work
        self._is_alive = is_alive
        self._grace_s = grace_s
        self._lock = threading.RLock()
        self._waiting: list[Job] = []
        self._running: dict[str, threading.Thread] = {}
        self._threads: list[threading.Thread] = []  # every worker not yet seen to exit
        self._jobs: dict[str, Job] = {}
        self._last_seen: dict[str, float] = {}
        self._ids = itertools.count(1)
        self.peak_running = 0  # the most jobs ever running at once (the limit's witness)

    # ------------------------------------------------------------ sessions

    def submit(self, owner: str, payload: Any, visitor: str = "") -> Job:
        visitor = visitor or owner
        with self._lock:
            mine = [job for job in self._jobs.values() if (job.visitor or job.owner) == visitor]
            if sum(job.state not in FINISHED for job in mine) >= self.per_owner:
                if self.per_owner == 1:
                    raise QueueRefused(
                        "you already have a job here (in this tab or another): cancel it or let it finish"
                    )
                raise QueueRefused(f"you already have {self.per_owner} jobs waiting or running")
            if self.capacity is not None and len(self._waiting) + len(self._running) >= self.capacity:
                raise QueueRefused(f"the queue is full ({self.capacity} jobs): try again in a few minutes")
            self._forget_old()
            job = Job(id=f"job-{next(self._ids)}", owner=owner, payload=payload, visitor=visitor)
            job._owner_check = lambda: self._owner_gone(owner)
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._dispatch()
            return job

    def get(self, job_id: str) -> Job | None:
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
            return JobView(
                id=job.id,
                payload=job.payload,
                state=job.state,
                message=job.message,
                position=position,
                progress=job.progress,
                result=job.result,
                seconds=now - job.started if job.started else 0.0,
                at=now,
            )

    def unfinished(self) -> list[Job]:
        """The jobs waiting or running now."""
        with self._lock:
            return [job for job in self._jobs.values() if job.state not in FINISHED]

    def counts(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._lock:
            return len(self._running), len(self._waiting)

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until no job runs or waits and every worker thread has exited (its on_end included: tests,
        shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                self._threads = [thread for thread in self._threads if thread.is_alive()]
                threads = list(self._threads)
                if not threads and not self._running and not self._waiting:
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

    def _ended(self, job: Job) -> None:
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
                thread = threading.Thread(target=self._work, args=(job,), name=f"job-{job.id}", daemon=True)
                self._running[job.id] = thread
                self._threads.append(thread)
                self.peak_running = max(self.peak_running, len(self._running))
                thread.start()

    def _work(self, job: Job) -> None:
        outcome = JobState.FAILED, "The job stopped unexpectedly."
        try:
            job.raise_if_cancelled()
            outcome = JobState.DONE, self._work_of(job)
        except JobCancelled as cancelled:
            outcome = JobState.CANCELLED, str(cancelled) or f"Cancelled ({job.cancel_reason})."
        except JobFailed as error:
            outcome = JobState.FAILED, str(error)
        except Exception as error:  # a crash must free the slot and reach the user as one line, without details
            log.exception("job %s crashed", job.id)
            outcome = JobState.FAILED, f"The job failed ({type(error).__name__}); the server's log has the details."
        finally:
            with self._lock:  # finished and slot freed in one step: no one sees a finished job holding a slot
                job._finish(*outcome)
                self._running.pop(job.id, None)
                self._dispatch()
            self._ended(job)
