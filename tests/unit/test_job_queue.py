"""The job queue without Streamlit: limit, capacity, positions, cancel, abandoned sessions and crashes."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.jobs.queue import Job, JobCancelled, JobFailed, JobQueue, JobState, QueueRefused


def steps(job: Job, count: int = 3, per_step: int = 50, pause: float = 0.001) -> str:
    """A stand-in workload with the trainer's calling pattern: a check often, a result after every step."""
    for step in range(1, count + 1):
        for _ in range(per_step):
            time.sleep(pause)
            job.raise_if_cancelled()
        job.publish(step, result=f"model {step}")
    return f"Did {count} steps."


def job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("job-")]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_job_runs_publishes_and_says_its_own_line() -> None:
    queue = JobQueue(steps, limit=1)
    job = queue.submit("s1", {"steps": 3})
    assert queue.join()
    view = queue.view(job.id)
    assert view.state is JobState.DONE and view.finished
    assert view.progress == 3 and view.result == "model 3" and view.message == "Did 3 steps."
    assert view.payload == {"steps": 3}
    assert job_threads() == []


def test_the_limit_is_never_exceeded_and_the_queue_shows_positions() -> None:
    release = threading.Event()
    running = []
    lock = threading.Lock()

    def held(job: Job) -> str:
        with lock:
            running.append(job.id)
        while not release.wait(0.005):
            job.raise_if_cancelled()
        return "done"

    queue = JobQueue(held, limit=2)
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
    queue = JobQueue(steps, limit=1)
    first = queue.submit("s1", {})
    with pytest.raises(QueueRefused, match="you already have a job here"):
        queue.submit("s1", {})
    queue.cancel(first.id)
    assert queue.join()
    queue.submit("s1", {})  # once it is finished, the session may start another
    assert queue.join()


def test_with_per_owner_above_one_a_sessions_jobs_wait_their_turn() -> None:
    """The map queue: a session that trains two models in a row gets both maps, one after the other."""
    release = threading.Event()

    def held(job: Job) -> str:
        while not release.wait(0.005):
            job.raise_if_cancelled()
        return "done"

    queue = JobQueue(held, limit=1, per_owner=2)
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
    queue = JobQueue(lambda job: steps(job, count=1000), limit=1)
    job = queue.submit("s1", {})
    wait_for(lambda: (queue.view(job.id).progress or 0) >= 1)
    started = time.monotonic()
    queue.cancel(job.id, "you cancelled it")
    assert queue.join(timeout=5)
    assert time.monotonic() - started < 1.0
    view = queue.view(job.id)
    assert view.state is JobState.CANCELLED
    assert view.result is not None  # what it published is kept
    assert view.message == "Cancelled (you cancelled it)."
    assert job_threads() == []


def test_a_cancel_is_said_in_the_works_own_words_where_it_gives_some() -> None:
    def worded(job: Job) -> str:
        try:
            return steps(job, count=1000)
        except JobCancelled:
            raise JobCancelled(f"Stopped after step {job.progress} ({job.cancel_reason}).") from None

    queue = JobQueue(worded, limit=1)
    job = queue.submit("s1", {})
    wait_for(lambda: (queue.view(job.id).progress or 0) >= 1)
    queue.cancel(job.id, "you cancelled it")
    assert queue.join(timeout=5)
    view = queue.view(job.id)
    assert view.message == f"Stopped after step {view.progress} (you cancelled it)."


@pytest.mark.slow
def test_a_job_whose_session_is_gone_is_cancelled_running_or_waiting() -> None:
    alive = {"s1": True, "s2": True}
    queue = JobQueue(lambda job: steps(job, count=1000), limit=1, is_alive=alive.get, grace_s=0.2)
    running, waiting = queue.submit("s1", {}), queue.submit("s2", {})
    wait_for(lambda: (queue.view(running.id).progress or 0) >= 1)
    alive["s2"] = False
    time.sleep(0.3)
    alive["s1"] = False
    wait_for(lambda: queue.view(running.id).finished, timeout=5)
    assert queue.join(timeout=5)
    for job in (running, waiting):
        view = queue.view(job.id)
        assert view.state is JobState.CANCELLED and "session was closed" in view.message
    assert job_threads() == []


def test_a_brief_disconnect_within_the_grace_period_keeps_the_job() -> None:
    alive = {"s1": True}

    def flicker(job: Job) -> str:
        alive["s1"] = False
        steps(job, count=2, per_step=10)
        alive["s1"] = True
        return "done"

    queue = JobQueue(flicker, limit=1, is_alive=alive.get, grace_s=5.0)
    job = queue.submit("s1", {})
    assert queue.join()
    assert queue.view(job.id).state is JobState.DONE


def test_a_failure_the_work_explains_keeps_its_words_and_what_it_published() -> None:
    def diverges(job: Job) -> str:
        steps(job, count=2, per_step=3)
        raise JobFailed("Stopped: the loss became NaN in step 3; step 2 is kept.")

    queue = JobQueue(diverges, limit=1)
    job = queue.submit("s1", {})
    assert queue.join()
    view = queue.view(job.id)
    assert view.state is JobState.FAILED
    assert view.message == "Stopped: the loss became NaN in step 3; step 2 is kept." and view.result == "model 2"


def test_a_crash_shows_one_line_and_frees_the_slot() -> None:
    def crashes_when_asked(job: Job) -> str:
        if job.payload["crash"]:
            raise RuntimeError("out of memory in /tmp/secret/path\nwith a long second line")
        return steps(job)

    queue = JobQueue(crashes_when_asked, limit=1)
    job = queue.submit("s1", {"crash": True})
    assert queue.join()
    view = queue.view(job.id)
    assert view.state is JobState.FAILED
    assert view.message == "The job failed (RuntimeError); the server's log has the details."  # no path shown
    assert queue.counts() == (0, 0)
    # the freed slot takes the next job
    after = queue.submit("s2", {"crash": False})
    assert queue.join()
    assert queue.view(after.id).state is JobState.DONE
    assert queue.peak_running == 1


def test_on_end_is_called_once_for_every_job_however_it_ends() -> None:
    ended: list[tuple[str, JobState]] = []
    release = threading.Event()

    def held(job: Job) -> str:
        while not release.wait(0.005):
            job.raise_if_cancelled()
        return "done"

    alive = {"s1": True, "s2": True, "s3": True}
    queue = JobQueue(
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


def test_a_full_queue_refuses_in_one_line_and_takes_jobs_again_once_it_empties() -> None:
    release = threading.Event()

    def held(job: Job) -> str:
        while not release.wait(0.005):
            job.raise_if_cancelled()
        return "done"

    queue = JobQueue(held, limit=1, capacity=3)
    jobs = [queue.submit(f"s{i}", {}) for i in range(3)]
    with pytest.raises(QueueRefused, match=r"^the queue is full \(3 jobs\): try again in a few minutes$"):
        queue.submit("s9", {})
    queue.cancel(jobs[2].id)  # a place frees up
    queue.submit("s9", {})
    release.set()
    assert queue.join()


def test_a_visitors_tabs_share_one_place_in_the_queue() -> None:
    release = threading.Event()

    def held(job: Job) -> str:
        while not release.wait(0.005):
            job.raise_if_cancelled()
        return "done"

    queue = JobQueue(held, limit=1)
    first = queue.submit("tab-1", {}, visitor="browser-a")
    with pytest.raises(QueueRefused, match="in this tab or another"):
        queue.submit("tab-2", {}, visitor="browser-a")  # another tab of the same browser
    second = queue.submit("tab-3", {}, visitor="browser-b")  # another browser waits its turn
    assert queue.view(second.id).position == 1
    queue.cancel(first.id)
    wait_for(lambda: queue.view(first.id).finished)
    assert queue.submit("tab-2", {}, visitor="browser-a")  # once the first is finished, the browser may go again
    release.set()
    assert queue.join()
