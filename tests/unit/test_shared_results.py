"""The results shared by every visitor (explorer/service/resources.py) stay bounded: a visitor asking for
ever new pairs or grids churns the cache, never grows it, and gets the same result as a fresh computation."""

from __future__ import annotations

from explorer.service.resources import shared_result

BOUND = 64  # shared_result's max_entries


def test_a_result_is_computed_once_then_shared_and_the_cache_keeps_a_bounded_number() -> None:
    shared_result.clear()
    computed: list[int] = []

    def ask(i: int) -> int:
        return shared_result("weights", "test", (i,), lambda: computed.append(i) or i * i)

    assert ask(3) == 9 and ask(3) == 9
    assert computed == [3]  # the second asker got the first one's result
    assert shared_result("other weights", "test", (3,), lambda: -1) == -1  # another model: its own result
    for i in range(1000, 1000 + BOUND + 10):  # a visitor churning new arguments
        ask(i)
    computed.clear()
    ask(3)
    assert computed == [3], "the cache held more than its bound: the oldest result was still there"
    shared_result.clear()
