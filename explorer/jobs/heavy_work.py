"""A bound on heavy work running at once in one server process: large uploads, map payloads, training.

Every session of a Streamlit server runs in the same process. Five 4000×4000 photos decoded at the same
moment took 1.3 GB more at the peak; a class opening the t-SNE map together builds a 7 MB payload each.
Wrapping such work in `heavy_work()` lets at most the settings' `heavy_slots` of it run at once; the
others wait up to `heavy_wait_s` for a slot, then get ServerBusy, whose text is the one line to show
("The server is busy…"). The slots are process-wide: one bound per process, made on first use.

    try:
        with heavy_work("reading your photo"):
            picture = decode(upload)
    except ServerBusy as busy:
        st.warning(str(busy))  # and keep what the view showed
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cache

from explorer.settings import settings

LOG = logging.getLogger(__name__)


class ServerBusy(RuntimeError):
    """No slot for heavy work freed up in time. str() is the one line to show the visitor."""

    def __init__(self, what: str = "") -> None:
        doing = f" ({what})" if what else ""
        super().__init__(f"The server is busy with other visitors' work{doing}: try again in a moment.")
        self.what = what


class HeavyWork:
    """At most `slots` holders at once; a newcomer waits up to `wait_s` seconds, then gets ServerBusy."""

    def __init__(self, slots: int, wait_s: float) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, not {slots}")
        self.slots = slots
        self.wait_s = wait_s
        self._free = threading.BoundedSemaphore(slots)
        self._count_lock = threading.Lock()
        self._running = 0

    @property
    def running(self) -> int:
        """How many holders are inside now."""
        with self._count_lock:
            return self._running

    @contextmanager
    def slot(self, what: str = "", wait_s: float | None = None) -> Iterator[None]:
        if not self._free.acquire(timeout=self.wait_s if wait_s is None else wait_s):
            LOG.warning("heavy work refused, %d slots busy: %s", self.slots, what or "unnamed")
            raise ServerBusy(what)
        with self._count_lock:
            self._running += 1
        try:
            yield
        finally:
            with self._count_lock:
                self._running -= 1
            self._free.release()


@cache
def process_bound() -> HeavyWork:
    """The bound every session of this process shares, as the operator set it."""
    return HeavyWork(settings().heavy_slots, settings().heavy_wait_s)


def heavy_work(what: str = "", wait_s: float | None = None) -> AbstractContextManager[None]:
    """A slot of the process-wide bound, for `with`: raises ServerBusy when none frees up in time."""
    return process_bound().slot(what, wait_s)
