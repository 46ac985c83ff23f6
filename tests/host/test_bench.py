"""`make bench`: the heap search walks down to the bottom of the run of sizes that work; the journal figures run."""
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


def test_a_size_counts_only_when_every_try_succeeds():
    runs: dict[int, int] = {}

    def task(heap: str) -> bool:  # at 88 KB one run in three fails, as near the edge
        size = int(heap.rstrip("k"))
        runs[size] = runs.get(size, 0) + 1
        return size > 88 or (size == 88 and runs[size] != 2)
    assert smallest_heap(task, high_kb=128) == 92
    assert runs[92] == 3


def test_the_journal_bench_runs_on_the_unix_port(monkeypatch):
    """A short run of ``make bench``'s journal rows: each figure is there and plausible."""
    from micropos import bench_journal

    monkeypatch.setattr(bench_journal, "REFUNDS_LITTLEFS", 20)
    monkeypatch.setattr(bench_journal, "REFUNDS_JOURNAL", 60)
    rows = {what: value for what, value, _ in bench_journal.rows()}
    journal = rows["raw journal (pending + outcome), per refund"]
    littlefs = rows["LittleFS append, flush per record, per refund"]
    programmed = float(journal.split(" B ")[0])
    assert 39 + 25 <= programmed < 100, journal  # a pending and an outcome record, a little sector overhead
    assert float(littlefs.split(" B ")[0]) > programmed, (littlefs, journal)
    assert rows["journal recovery at boot"].endswith(" B")
