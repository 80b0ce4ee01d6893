"""What every AppTest test shares: the server's job queues are left empty behind it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def no_jobs_left_behind() -> Iterator[None]:
    """An upload or a finished run queues its map on the process's map queue, which outlives the test: its
    worker threads would still be running in a later test of the same worker (and its CPU with them). So
    whatever a test left waiting or running is cancelled and waited for."""
    yield
    from explorer.service import jobs

    for queue in list(jobs._queues):
        for job in queue.unfinished():
            queue.cancel(job.id, "the test is over")
        assert queue.join(120), "a job of this test did not stop within 2 minutes of being cancelled"
