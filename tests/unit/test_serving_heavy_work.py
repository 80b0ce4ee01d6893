"""explorer.jobs.heavy_work: at most N heavy jobs at once across threads (Streamlit's sessions are threads)."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.jobs.heavy_work import HeavyWork, ServerBusy, process_bound


def test_no_more_than_the_slots_run_at_once() -> None:
    bound = HeavyWork(slots=2, wait_s=30)
    inside, most, lock = 0, 0, threading.Lock()

    def job() -> None:
        nonlocal inside, most
        with bound.slot("job"):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=job) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most == 2
    assert bound.running == 0


def test_a_newcomer_gets_a_one_line_busy_message_when_no_slot_frees_up() -> None:
    bound = HeavyWork(slots=1, wait_s=0.05)
    with bound.slot("a photo"):
        assert bound.running == 1
        started = time.monotonic()
        with pytest.raises(ServerBusy) as refused, bound.slot("another photo"):
            pytest.fail("entered a full bound")
        assert time.monotonic() - started >= 0.04  # it waited before giving up
    message = str(refused.value)
    assert message.startswith("The server is busy") and "another photo" in message and "\n" not in message
    with bound.slot():  # the slot is free again
        assert bound.running == 1


def test_a_waiting_job_gets_the_slot_when_the_holder_finishes() -> None:
    bound = HeavyWork(slots=1, wait_s=10)
    holding, got = threading.Event(), []

    def holder() -> None:
        with bound.slot():
            holding.set()
            time.sleep(0.2)

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(10)
    with bound.slot():
        got.append(bound.running)
    thread.join(10)
    assert got == [1]


def test_a_failing_job_gives_its_slot_back() -> None:
    bound = HeavyWork(slots=1, wait_s=0.01)
    with pytest.raises(ZeroDivisionError), bound.slot():
        _ = 1 / 0
    assert bound.running == 0
    with bound.slot():
        pass


def test_the_process_bound_is_the_operators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_EXPLORER_HEAVY_SLOTS", "3")
    monkeypatch.setenv("VAE_EXPLORER_HEAVY_WAIT", "2.5")
    assert (process_bound().slots, process_bound().wait_s) == (3, 2.5)
    with pytest.raises(ValueError):
        HeavyWork(slots=0, wait_s=1)
