"""A bound on heavy work running at once in one server process: large uploads, map payloads, training.

Every session of a Streamlit server runs in the same process. Five 4000×4000 photos decoded at the same
moment took 1.3 GB more at the peak; a class opening the t-SNE map together builds a 7 MB payload each.
Wrapping such work in `heavy_work()` lets at most `VAE_EXPLORER_HEAVY_SLOTS` of it (default 2) run at
once; the others wait up to `VAE_EXPLORER_HEAVY_WAIT` seconds (default 10) for a slot, then get
ServerBusy, whose text is the one line to show ("The server is busy…"). The slots are process-wide: this
module is imported once per process and Streamlit's reruns reuse it.

    try:
        with heavy_work("reading your photo"):
            picture = decode(upload)
    except ServerBusy as busy:
        st.warning(str(busy))  # and keep what the view showed
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

LOG = logging.getLogger(__name__)
SLOTS_VARIABLE = "VAE_EXPLORER_HEAVY_SLOTS"
WAIT_VARIABLE = "VAE_EXPLORER_HEAVY_WAIT"
DEFAULT_SLOTS = 2  # a 2-core machine: more at once only adds memory, not speed
DEFAULT_WAIT_S = 10.0


class ServerBusy(RuntimeError):
    """No slot for heavy work freed up in time. str() is the one line to show the visitor."""

    def __init__(self, what: str = "") -> None:
        doing = f" ({what})" if what else ""
        super().__init__(f"The server is busy with other visitors' work{doing}: try again in a moment.")
        self.what = what


class HeavyWork:
    """At most `slots` holders at once; a newcomer waits up to `wait_s` seconds, then gets ServerBusy."""

    def __init__(self, slots: int = DEFAULT_SLOTS, wait_s: float = DEFAULT_WAIT_S) -> None:
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


def _positive(environ: Mapping[str, str], name: str, default: float, kind: type) -> float:
    """An operator's setting; an unusable value is logged and the default used (the app still starts)."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:
        LOG.warning("%s=%r is not a positive %s: using %s", name, raw, kind.__name__, default)
        return default
    return value


def from_environment(environ: Mapping[str, str] = os.environ) -> HeavyWork:
    """The bound the operator set with VAE_EXPLORER_HEAVY_SLOTS and VAE_EXPLORER_HEAVY_WAIT."""
    slots = int(_positive(environ, SLOTS_VARIABLE, DEFAULT_SLOTS, int))
    return HeavyWork(slots, float(_positive(environ, WAIT_VARIABLE, DEFAULT_WAIT_S, float)))


PROCESS_BOUND = from_environment()


def heavy_work(what: str = "", wait_s: float | None = None) -> AbstractContextManager[None]:
    """A slot of the process-wide bound, for `with`: raises ServerBusy when none frees up in time."""
    return PROCESS_BOUND.slot(what, wait_s)
