"""CPU time and memory of a running process, read from /proc (Linux): for bench/load.py and bench/idle_cpu.py."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of stat)


def rss_mb(pid: int) -> float:
    """Resident memory now, in MiB."""
    resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident * PAGE / 2**20


def load_average() -> float:
    return os.getloadavg()[0]


class Meter:
    """Samples a process's RSS every `interval` seconds in a thread (for the peak) and measures its CPU share
    between start() and stop()."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._cpu0 = self._wall0 = 0.0
        self.cpu_percent = 0.0
        self.wall_s = 0.0

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            except OSError:  # the process ended
                return
            self._stop.wait(self.interval)

    def start(self) -> Meter:
        self._cpu0, self._wall0 = cpu_seconds(self.pid), time.monotonic()
        self.peak_mb = rss_mb(self.pid)
        self._thread.start()
        return self

    def stop(self) -> Meter:
        self.wall_s = time.monotonic() - self._wall0
        self.cpu_percent = 100 * (cpu_seconds(self.pid) - self._cpu0) / self.wall_s
        self._stop.set()
        self._thread.join()
        return self
