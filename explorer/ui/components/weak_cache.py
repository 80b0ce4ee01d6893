"""A cache keyed by an object that lives only as long as the object: shared by every session like
lru_cache, but a session's own model (an upload, a run trained here) and its map are not kept alive by it
once the session has let them go."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, TypeVar

Result = TypeVar("Result")


def while_alive(compute: Callable[..., Result]) -> Callable[..., Result]:
    """Cache compute(owner, *args) per owner object (by identity) and args, for as long as the owner lives.
    The results must not refer to the owner, or it would never go."""
    results: weakref.WeakKeyDictionary[Any, dict[tuple[Hashable, ...], Result]] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    @wraps(compute)
    def cached(owner: Any, *args: Hashable) -> Result:
        with lock:
            known = results.get(owner)
            if known is not None and args in known:
                return known[args]
        value = compute(owner, *args)
        with lock:
            results.setdefault(owner, {})[args] = value
        return value

    cached.cache_size = lambda: len(results)  # type: ignore[attr-defined]
    return cached
