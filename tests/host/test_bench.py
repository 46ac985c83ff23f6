"""The bench's heap search: the bottom of the unbroken run of sizes that work, walking down."""
from __future__ import annotations

import pytest

from micropos.bench import smallest_heap


def _works_from(kb: int, also: set[int] = frozenset()):
    tried: list[int] = []

    def task(heap: str) -> bool:
        size = int(heap.rstrip("k"))
        tried.append(size)
        return size >= kb or size in also
    return task, tried


@pytest.mark.parametrize(("works_from", "islands", "expected"), [
    (96, set(), 96),
    (92, set(), 92),
    (100, {84, 88}, 100),   # a smaller heap that happens to pass below a failure does not count
    (300, set(), None),     # fails at the top: no figure
])
def test_the_search_finds_the_bottom_of_the_run_of_successes(works_from, islands, expected):
    task, tried = _works_from(works_from, islands)
    assert smallest_heap(task, high_kb=256) == expected
    if expected:
        assert expected - 4 in tried, "the size just below the figure was tried and failed"
