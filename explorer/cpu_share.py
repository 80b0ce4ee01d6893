"""How much of the machine other processes are using, so a training job does not fight them for cores.

A job's torch threads spin-wait for each other between operations. With a core taken by something else
(the browser of a student running the app on their own laptop, a second replica, a neighbour on a
shared VM) two threads on what is in effect one core ran an epoch 2–4 times slower than one thread did
(README "Training from the app"). Linux counts every CPU's busy time in /proc/stat and this process's own
in /proc/self/stat: the difference is the others'.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuSample:
    at: float  # time.monotonic()
    busy: int  # clock ticks all CPUs spent on anything but idling, since boot
    own: int  # clock ticks this process spent (all its threads), since it started


def take_sample() -> CpuSample | None:
    """Now's counters, or None where /proc is not there (macOS, Windows)."""
    try:
        with open("/proc/stat") as stat:
            total = [int(v) for v in stat.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
        with open("/proc/self/stat") as own:
            fields = own.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    except (OSError, ValueError, IndexError):
        return None
    idle = total[3] + total[4]
    return CpuSample(time.monotonic(), sum(total) - idle, int(fields[11]) + int(fields[12]))  # utime + stime


class CpuShare:
    """Cores other processes kept busy between one look and the next."""

    def __init__(self) -> None:
        self._last = take_sample()

    def others_busy(self, min_interval_s: float = 0.2) -> float | None:
        """Cores busy with other processes since the last call (or since this object was made); None
        without /proc or when less than min_interval_s has passed (too few clock ticks to tell)."""
        now = take_sample()
        if now is None or self._last is None or now.at - self._last.at < min_interval_s:
            return None
        ticks = (now.busy - self._last.busy) - (now.own - self._last.own)
        seconds = now.at - self._last.at
        self._last = now
        return max(0.0, ticks / os.sysconf("SC_CLK_TCK") / seconds)
