"""The training queue without Streamlit: limit, positions, cancel, abandoned sessions, NaN and crashes."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.training_jobs import (
    EpochResult,
    JobState,
    QueueRefused,
    TrainingJob,
    TrainingQueue,
    cancelled_message,
    job_limit_from_env,
)
from vae.training import TrainingDiverged


def batches(job: TrainingJob, epochs: int = 3, per_epoch: int = 50, pause: float = 0.001) -> None:
    """A stand-in workload with the trainer's calling pattern: a check after every batch, a report per epoch."""
    for epoch in range(1, epochs + 1):
        for batch in range(per_epoch):
            time.sleep(pause)
            job.report_batch(epoch, batch + 1, per_epoch)
            job.raise_if_cancelled()
        job.report_epoch(EpochResult(epoch, {"epoch": epoch}, panel=f"panel {epoch}", result=f"model {epoch}"))


def training_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("training-")]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_job_runs_and_records_every_epoch() -> None:
    queue = TrainingQueue(batches, limit=1)
    job = queue.submit("s1", {"epochs": 3})
    assert queue.join()
    view = queue.view(job.id)
    assert view.state is JobState.DONE and view.finished
    assert [h["epoch"] for h in view.history] == [1, 2, 3]
    assert view.panels[-1] == (3, "panel 3") and view.result == "model 3"
    assert training_threads() == []


def test_the_steps_time_is_counted_from_the_first_report() -> None:
    """The Train view's time left uses the steps' own pace: not the time spent before epoch 0 was reported
    (the untrained model's evaluation), which would make every estimate too long."""
    reported, release = threading.Event(), threading.Event()

    def slow_start(job: TrainingJob) -> None:
        time.sleep(0.3)  # the epoch-0 evaluation
        job.report_epoch(EpochResult(0, None, panel="panel 0"))
        reported.set()
        release.wait(10)

    queue = TrainingQueue(slow_start, limit=1)
    job = queue.submit("s1", {})
    wait_for(lambda: queue.view(job.id).state is JobState.RUNNING)
    assert queue.view(job.id).training_seconds == 0.0  # nothing reported yet
    assert reported.wait(10)
    time.sleep(0.1)
    view = queue.view(job.id)
    assert view.seconds >= 0.4 and 0.1 <= view.training_seconds < view.seconds - 0.25
    release.set()
    assert queue.join()
    done = queue.view(job.id)
    assert done.training_seconds == queue.view(job.id).training_seconds  # frozen once the job ended


def test_the_limit_is_never_exceeded_and_the_queue_shows_positions() -> None:
    release = threading.Event()
    running = []
    lock = threading.Lock()

    def held(job: TrainingJob) -> None:
        with lock:
            running.append(job.id)
        while not release.wait(0.005):
            job.raise_if_cancelled()

    queue = TrainingQueue(held, limit=2)
    jobs = [queue.submit(f"s{i}", {}) for i in range(5)]
    wait_for(lambda: len(running) == 2)
    assert [queue.view(j.id).position for j in jobs] == [0, 0, 1, 2, 3]
    assert [queue.view(j.id).state for j in jobs[:3]] == [JobState.RUNNING, JobState.RUNNING, JobState.QUEUED]
    queue.cancel(jobs[3].id)  # a waiting job leaves the line at once and the one behind moves up
    assert queue.view(jobs[3].id).state is JobState.CANCELLED
    assert queue.view(jobs[4].id).position == 2
    release.set()
    assert queue.join()
    assert queue.peak_running == 2
    assert [queue.view(j.id).state for j in jobs] == [JobState.DONE] * 3 + [JobState.CANCELLED, JobState.DONE]


def test_a_session_gets_one_job_at_a_time() -> None:
    queue = TrainingQueue(batches, limit=1)
    first = queue.submit("s1", {})
    with pytest.raises(QueueRefused, match="already has a model in training"):
        queue.submit("s1", {})
    queue.cancel(first.id)
    assert queue.join()
    queue.submit("s1", {})  # once it is finished, the session may start another
    assert queue.join()


def test_with_per_owner_above_one_a_sessions_jobs_wait_their_turn() -> None:
    """The map queue: a session that trains two models in a row gets both maps, one after the other."""
    release = threading.Event()

    def held(job: TrainingJob) -> None:
        while not release.wait(0.005):
            job.raise_if_cancelled()

    queue = TrainingQueue(held, limit=1, per_owner=2)
    first, second = queue.submit("s1", {}), queue.submit("s1", {})
    wait_for(lambda: queue.view(first.id).state is JobState.RUNNING)
    assert queue.view(second.id).state is JobState.QUEUED and queue.view(second.id).position == 1
    with pytest.raises(QueueRefused):  # but not without bound: one visitor cannot fill the server's line
        queue.submit("s1", {})
    queue.submit("s2", {})  # another session still can
    release.set()
    assert queue.join()
    assert [queue.view(j.id).state for j in (first, second)] == [JobState.DONE, JobState.DONE]


def test_cancel_stops_a_running_job_within_a_batch_and_leaves_no_thread() -> None:
    queue = TrainingQueue(lambda job: batches(job, epochs=1000), limit=1)
    job = queue.submit("s1", {})
    wait_for(lambda: queue.view(job.id).epoch >= 1)
    started = time.monotonic()
    queue.cancel(job.id)
    assert queue.join(timeout=5)
    assert time.monotonic() - started < 1.0
    view = queue.view(job.id)
    assert view.state is JobState.CANCELLED
    assert view.result is not None  # the last finished epoch is kept, and the message counts as the bar does
    assert view.message == f"Cancelled during epoch {view.epoch + 1} (cancelled); epoch {view.epoch} is kept."
    assert training_threads() == []


@pytest.mark.slow
def test_a_job_whose_session_is_gone_is_cancelled_running_or_waiting() -> None:
    alive = {"s1": True, "s2": True}
    queue = TrainingQueue(lambda job: batches(job, epochs=1000), limit=1, is_alive=alive.get, grace_s=0.2)
    running, waiting = queue.submit("s1", {}), queue.submit("s2", {})
    wait_for(lambda: queue.view(running.id).epoch >= 1)
    alive["s2"] = False
    time.sleep(0.3)
    alive["s1"] = False
    wait_for(lambda: queue.view(running.id).finished, timeout=5)
    assert queue.join(timeout=5)
    for job in (running, waiting):
        view = queue.view(job.id)
        assert view.state is JobState.CANCELLED and "session was closed" in view.message
    assert training_threads() == []


def test_a_brief_disconnect_within_the_grace_period_keeps_the_job() -> None:
    alive = {"s1": True}

    def flicker(job: TrainingJob) -> None:
        alive["s1"] = False
        batches(job, epochs=2, per_epoch=10)
        alive["s1"] = True

    queue = TrainingQueue(flicker, limit=1, is_alive=alive.get, grace_s=5.0)
    job = queue.submit("s1", {})
    assert queue.join()
    assert queue.view(job.id).state is JobState.DONE


def test_divergence_stops_with_a_message_and_keeps_the_last_good_epoch() -> None:
    def diverges(job: TrainingJob) -> None:
        batches(job, epochs=2, per_epoch=3)
        raise TrainingDiverged("the training loss became nan in epoch 3; epoch 2 is kept. Try a lower learning rate.")

    queue = TrainingQueue(diverges, limit=1)
    job = queue.submit("s1", {})
    assert queue.join()
    view = queue.view(job.id)
    assert view.state is JobState.DIVERGED
    assert "nan" in view.message and view.result == "model 2" and len(view.history) == 2


def test_a_crash_shows_one_line_and_frees_the_slot() -> None:
    def crashes_when_asked(job: TrainingJob) -> None:
        if job.settings["crash"]:
            raise RuntimeError("out of memory\nwith a long second line")
        batches(job)

    queue = TrainingQueue(crashes_when_asked, limit=1)
    job = queue.submit("s1", {"crash": True})
    assert queue.join()
    view = queue.view(job.id)
    assert view.state is JobState.FAILED
    assert view.message == "Training failed: RuntimeError: out of memory"
    assert queue.counts() == (0, 0)
    # the freed slot takes the next job
    after = queue.submit("s2", {"crash": False})
    assert queue.join()
    assert queue.view(after.id).state is JobState.DONE
    assert queue.peak_running == 1


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAE_TRAIN_JOBS", raising=False)
    assert job_limit_from_env() == 1
    monkeypatch.setenv("VAE_TRAIN_JOBS", "3")
    assert TrainingQueue(batches).limit == 3
    for bad in ("0", "two"):
        monkeypatch.setenv("VAE_TRAIN_JOBS", bad)
        with pytest.raises(ValueError, match="VAE_TRAIN_JOBS"):
            job_limit_from_env()


def test_the_cancel_message_counts_epochs_as_the_progress_line() -> None:
    job = TrainingJob(id="job-1", owner="s1", settings={})
    job.cancel("you cancelled it")
    assert cancelled_message(job) == "Cancelled before its first step (you cancelled it); no epoch had finished."
    job.report_batch(1, 10, 100)  # "Epoch 1 of 3": the first epoch, under way; nothing finished yet
    assert cancelled_message(job) == "Cancelled during epoch 1 (you cancelled it); no epoch had finished."
    job.report_epoch(EpochResult(1, {"epoch": 1}, panel=None, result="model 1"))
    assert cancelled_message(job) == "Cancelled after epoch 1 (you cancelled it); epoch 1 is kept."
    job.report_batch(2, 10, 100)
    assert cancelled_message(job) == "Cancelled during epoch 2 (you cancelled it); epoch 1 is kept."


def test_on_end_is_called_once_for_every_job_however_it_ends() -> None:
    ended: list[tuple[str, JobState]] = []
    release = threading.Event()

    def held(job: TrainingJob) -> None:
        while not release.wait(0.005):
            job.raise_if_cancelled()

    alive = {"s1": True, "s2": True, "s3": True}
    queue = TrainingQueue(
        held, limit=1, is_alive=lambda owner: alive[owner], grace_s=0.0, on_end=lambda j: ended.append((j.id, j.state))
    )
    running, cancelled, dropped = queue.submit("s1", {}), queue.submit("s2", {}), queue.submit("s3", {})
    wait_for(lambda: queue.view(running.id).state is JobState.RUNNING)
    queue.cancel(cancelled.id)  # dropped from the line by its session
    alive["s3"] = False
    time.sleep(0.01)
    queue.view(dropped.id)  # the queue notices its session is gone
    release.set()
    assert queue.join()
    assert sorted(ended) == sorted(
        [(running.id, JobState.DONE), (cancelled.id, JobState.CANCELLED), (dropped.id, JobState.CANCELLED)]
    )
