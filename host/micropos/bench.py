"""``make bench``: the figures the README records, measured now and printed as a table.

Memory: the firmware runs in a heap the size of an ESP32's without PSRAM
would give it (64 KB, on the unix port, whose 64-bit objects are larger than
the board's 32-bit ones, so the board has more room than this shows).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport

Row = tuple[str, str, str]  # (what, figure, how)
BOARD_HEAP = "64k"


def heap_idle_and_menu(flash: str) -> Iterator[Row]:
    with Terminal(EmulatorTransport(heap=BOARD_HEAP, env={"MICROPOS_FLASH": flash})) as term:
        term.ready()
        free, alloc = term.heap()
        yield ("heap in use at idle", f"{alloc} B of 64 KB", "gc.mem_alloc() after gc.collect(), -X heapsize=64k")
        for digit in "1234567":
            term.press("FUNC", digit, "CANCEL")
        term.settle()
        free, alloc = term.heap()
        yield ("heap in use after every menu entry", f"{alloc} B ({free} B free)", "same, after FUNC 1..7")


def journal_writes(flash: str) -> Iterator[Row]:
    from micropos import bench_journal

    yield from bench_journal.rows()


BENCHES: list[Callable[[str], Iterator[Row]]] = [heap_idle_and_menu, journal_writes]


def run(flash: str) -> list[Row]:
    return [row for bench in BENCHES for row in bench(flash)]


def format_table(rows: list[Row]) -> str:
    header = ("figure", "value", "measured by")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    return "\n".join([line, rule, *body])
