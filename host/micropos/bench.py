"""``make bench``: the figures the README records, measured now and printed as a table.

Memory is measured on the unix port, whose 64-bit objects are larger than an
ESP32's 32-bit ones: a board without PSRAM (about 110 KB of MicroPython heap)
has more room than these figures suggest.  The goal is 64 KB on the unix port.

The emulator runs its bytecode from a ROMFS image outside the heap, as a
board runs it from flash, so the heap holds what the firmware allocates.
"Smallest heap" rows find the least ``-X heapsize`` at which a task
completes three times of three, as at every size tried above it.  Fragmentation makes success
uneven near the edge (a heap 4 KB larger can fail where a smaller one
passed), so the search walks down from a size that works, in 16 KB then
4 KB steps, and stops at the first failure instead of bisecting.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

from micropos import paths
from micropos.errors import LinkError
from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport

Row = tuple[str, str, str]  # (what, figure, how)


def heap_idle_and_menu(flash: str) -> Iterator[Row]:
    with Terminal(EmulatorTransport(env={"MICROPOS_FLASH": flash})) as term:
        term.ready()
        free, alloc = term.heap()
        yield ("heap in use at idle", f"{alloc} B", "gc.mem_alloc() after gc.collect(), at idle after boot")
        for digit in "1234567":
            term.press("FUNC", digit, "CANCEL")
        term.settle()
        free, alloc = term.heap()
        yield ("heap in use at idle after every menu entry", f"{alloc} B", "same, after FUNC 1..7 and CANCEL")


def smallest_heap(task: Callable[[str], bool], high_kb: int = 128, low_kb: int = 16,
                  coarse_kb: int = 16, fine_kb: int = 4, tries: int = 3) -> int | None:
    """The bottom (KB) of the unbroken run of heap sizes, down from ``high_kb``, in which ``task`` succeeds.

    A size counts only when ``task`` succeeds at it ``tries`` times out of
    ``tries``: near the edge the same run passes or fails by a few hundred
    bytes of timing, so the figure is the largest of the tries.  None if it
    fails at ``high_kb`` already.
    """
    def works(kb: int) -> bool:
        return all(task(f"{kb}k") for _ in range(tries))

    if not works(high_kb):
        return None
    kb = high_kb
    for step in (coarse_kb, fine_kb):
        while kb - step >= low_kb and works(kb - step):
            kb -= step
    return kb


def heap_needed(flash: str) -> Iterator[Row]:
    """A refund in 中文 (chosen at the keypad first: the measured run boots in it, every screen drawn with
    the glyphs from flash) and a refund after every menu entry (FUNC 1..7, CANCEL: every flow's names
    interned, as in a day of use).  Boot and the English refund are rows of ``heap_per_flow``."""
    for what, task in (("a full refund in 中文, boot to receipt", _flow(flash, "refund", language="zh")),
                       ("a full refund after every menu entry", _flow(flash, "refund", first=_EVERY_MENU))):
        kb = smallest_heap(task)
        figure = f"{kb} KB" if kb else "over 128 KB"
        yield (f"smallest heap for {what}", figure,
               "least -X heapsize (4 KB steps) at which it completes 3 times of 3, as at every size above")


# Each flow as design.md types it, from boot at the heap measured: (setup at a full heap, then the flow).
# A step is keys to press, "swipe" (the demo card) or ("expect", text, seconds).
_PASSWORD = ("1", "2", "3", "4", "5", "6", "ENTER")
_SALE = (("FUNC", "1", "1", "2", "3", "4", "ENTER"), "swipe", ("ENTER",), ("expect", "APPROVED", 20))
FLOWS: dict[str, tuple[tuple[object, ...], tuple[object, ...]]] = {
    "boot": ((), (("expect", "FUNC: menu", 5),)),
    "sale": ((), _SALE),
    "void": (_SALE, (("CANCEL", "FUNC", "2", *_PASSWORD, "1", "ENTER", "ENTER"), "swipe", ("ENTER",),
                     ("expect", "APPROVED", 20))),
    "refund": ((), ("refund", ("expect", "APPROVED", 20))),
    # (not "APPROVED": the history screen the keys pass through says it of the sale)
    "refund from history": (_SALE, (("CANCEL", "FUNC", "4", "FUNC", *_PASSWORD, "1", "ENTER"),
                                    ("expect", "Left to refund", 20))),
    "settlement": (_SALE, (("CANCEL", "FUNC", "5", "ENTER"), ("expect", "Batch closed", 20))),
    "history": (_SALE, (("CANCEL", "FUNC", "4"), ("expect", "1/1", 5), ("ENTER",), ("expect", "Reprinted", 5))),
}


_EVERY_MENU = tuple(("FUNC", digit, "CANCEL") for digit in "1234567")
_LANGUAGE_KEYS = {"en": "1", "zh": "2"}  # FUNC 7 1, then this
_ZH = {"APPROVED": "交易成功", "FUNC: menu": "FUNC:菜单", "Swipe card": "请刷卡", "ENTER: send": "确认:发送"}


def _flow(flash: str, name: str, bytecode: str = "rom", language: str = "en",
          first: tuple[object, ...] = ()) -> Callable[[str], bool]:
    """The task of one flow of ``FLOWS``, against a demo acquirer, with the bytecode in ROM or in files.

    ``language``: the screens', chosen at the keypad before the measured
    boot (kept on flash, so that boot comes up in it); ``first``: steps the
    measured boot takes before the flow."""
    from micropos.acquirer.ledger import Ledger
    from micropos.acquirer.server import start_in_thread
    from micropos.demo import DEMO_SALES, demo_rows, refund_keys

    setup, steps = FLOWS[name]
    steps = first + steps
    if language != "en":
        setup = (("FUNC", "7", "1", _LANGUAGE_KEYS[language]), ("expect", "FUNC: menu", 5), *setup)
    words = _ZH if language == "zh" else {}
    today = date.today()
    rrn, days_ago = DEMO_SALES[0][:2]

    def play(term: Terminal, todo: tuple[object, ...]) -> None:
        for step in todo:
            if step == "swipe":
                term.expect(words.get("Swipe card", "Swipe card"), 10)
                term.swipe(DEMO_SALES[0][3], "3012")
                term.expect(words.get("ENTER: send", "ENTER: send"), 10)
            elif step == "refund":
                term.press(*refund_keys(rrn, today - timedelta(days=days_ago), "1234"), "ENTER")
            elif isinstance(step, tuple) and step and step[0] == "expect":
                term.expect(words.get(str(step[1]), str(step[1])), float(step[2]))
            else:
                term.press(*step)  # type: ignore[misc]

    def task(heap: str) -> bool:
        Path(flash).unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "ledger.sqlite3"
            with start_in_thread(db) as acquirer:
                with Ledger(db) as ledger:
                    ledger.seed_rows(demo_rows(today))
                env = {"MICROPOS_FLASH": flash, "MICROPOS_ACQUIRER": f"{acquirer.host}:{acquirer.port}"}
                if setup:  # what the flow needs in the journal, at a heap where it surely fits
                    with Terminal(EmulatorTransport(env=env, bytecode=bytecode, heap="512k")) as term:
                        term.ready(timeout=10)
                        play(term, setup)
                        term.press("CANCEL")
                        term.settle()
                try:
                    with Terminal(EmulatorTransport(heap=heap, env=env, bytecode=bytecode)) as term:
                        term.ready(timeout=10)
                        play(term, steps)
                        term.press("CANCEL")
                        term.expect(words.get("FUNC: menu", "FUNC: menu"), 5)
                        term.alive()
                        return True
                except LinkError:
                    return False
    return task


def heap_per_flow(flash: str) -> Iterator[Row]:
    """Each flow's smallest heap, with the bytecode in flash and with it loaded from files (a stock board)."""
    for bytecode, where, high in (("rom", "bytecode in flash (ROMFS here, frozen on a board)", 128),
                                  ("files", "bytecode loaded into the heap from .mpy files, as make deploy "
                                            "leaves a stock MicroPython", 256)):
        for name in FLOWS:
            kb = smallest_heap(_flow(flash, name, bytecode), high_kb=high)
            yield (f"smallest heap, {name} ({bytecode})", f"{kb} KB" if kb else f"over {high} KB",
                   f"{where}; boot to idle after it, 3 tries of 3 at each 4 KB step")


def glyph_file(flash: str) -> Iterator[Row]:
    from micropos import font

    glyphs = font.GlyphFile.load()
    size = font.GLYPH_FILE.stat().st_size
    yield ("中文 glyph file in flash", f"{size} B, {len(glyphs.codes)} characters",
           f"{font.GLYPH_FILE.name}: 12x12 bitmaps and GB18030 codes, read a glyph at a time, none in the heap")


def journal_writes(flash: str) -> Iterator[Row]:
    from micropos import bench_journal

    yield from bench_journal.rows()


def acquirer_throughput(flash: str) -> Iterator[Row]:
    from micropos import acquirer_bench

    yield from acquirer_bench.rows()


BENCHES: list[Callable[[str], Iterator[Row]]] = [heap_idle_and_menu, heap_needed, heap_per_flow, glyph_file,
                                                 journal_writes, acquirer_throughput]
RESULTS = paths.ROOT / "build" / "bench.json"


def run(flash: str) -> list[Row]:
    """Every figure, in the table's order; also written to ``build/bench.json``."""
    rows = [row for bench in BENCHES for row in bench(flash)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([{"figure": what, "value": value, "measured by": how} for what, value, how in rows],
                                  ensure_ascii=False, indent=1) + "\n")
    return rows


def format_table(rows: list[Row]) -> str:
    header = ("figure", "value", "measured by")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + " |" for row in rows]
    return "\n".join([line, rule, *body])
