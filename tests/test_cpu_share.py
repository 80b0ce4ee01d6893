"""CpuShare against real load: a busy child process counts as others', a busy thread of our own does not.

The two load tests are `slow` (1.5 s each), so they run where tests run one at a time (scripts/test.sh,
CI): beside a second xdist worker the machine is never quiet enough to tell.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from explorer.cpu_share import CpuShare, take_sample

pytestmark = pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="needs Linux's /proc")


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.slow
def test_a_busy_child_process_is_counted_as_others() -> None:
    share = CpuShare()
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.monotonic() + 1.5\nwhile time.monotonic() < end: pass"]
    )
    child.wait(30)
    assert share.others_busy() > 0.5  # one core for most of the time since the share was made


@pytest.mark.slow
def test_our_own_busy_thread_is_not() -> None:
    share = CpuShare()
    worker = threading.Thread(target=spin, args=(1.5,))
    worker.start()
    worker.join()
    assert share.others_busy() < 0.5


def test_too_short_an_interval_says_nothing_and_keeps_counting() -> None:
    share = CpuShare()
    assert share.others_busy(min_interval_s=60.0) is None
    time.sleep(0.3)
    assert share.others_busy() is not None  # measured from when the share was made


def test_a_sample_counts_forwards() -> None:
    first = take_sample()
    spin(0.2)
    second = take_sample()
    assert first is not None and second is not None
    assert second.at > first.at and second.busy >= first.busy and second.own > first.own
