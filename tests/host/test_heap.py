"""The firmware's heap: figures come from ``make bench``; here: flows unload, nothing leaks, running out is loud."""
from __future__ import annotations

import pytest

from micropos.errors import LinkError
from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport


def test_the_host_link_reports_the_heap_and_what_is_loaded(tmp_path):
    with Terminal(EmulatorTransport(env={"MICROPOS_FLASH": str(tmp_path / "f.img")})) as term:
        term.ready()
        free, alloc = term.heap()
        assert free > 0 and alloc > 0
        loaded = term.modules()
        assert "app" in loaded and "iso8583" not in loaded, "the wire is loaded only while a flow sends"
        # resident from boot: the class of JournalFull must be one class across every load of the journal
        assert {"kinds", "lifetime", "words", "money", "screens"} <= set(loaded)
        term.press("FUNC", "5")
        term.expect("ENTER: settle")
        assert "settle" in term.modules()
        term.press("CANCEL")
        term.expect("FUNC: menu")
        assert "settle" not in term.modules() and "journal" not in term.modules(), "a flow's modules unload at idle"


def test_a_heap_too_small_fails_loudly_not_silently(tmp_path):
    with pytest.raises(LinkError, match="exited|MemoryError|no 'ready'"):
        with Terminal(EmulatorTransport(heap="16k", env={"MICROPOS_FLASH": str(tmp_path / "f.img")})) as term:
            term.ready(timeout=5)


def test_a_refund_leaves_nothing_behind_but_the_names_it_interned(tmp_path):
    """After a refund the heap at idle holds no more than the new qstrs (interned for good).

    A finished send once stayed reachable from asyncio's task links and held
    the codec, the connection and the journal, about 18 KB, until the next one.
    """
    from datetime import date, timedelta

    from micropos.acquirer.ledger import Ledger
    from micropos.acquirer.server import start_in_thread
    from micropos.demo import DEMO_SALES, demo_rows, refund_keys

    today = date.today()
    db = tmp_path / "ledger.sqlite3"
    with start_in_thread(db) as acquirer:
        with Ledger(db) as ledger:
            ledger.seed_rows(demo_rows(today))
        env = {"MICROPOS_FLASH": str(tmp_path / "f.img"), "MICROPOS_ACQUIRER": f"{acquirer.host}:{acquirer.port}"}
        with Terminal(EmulatorTransport(env=env)) as term:
            term.ready()
            term.expect("FUNC: menu")
            at_idle = [term.heap()[1]]
            for rrn, days_ago, *_ in DEMO_SALES[:2]:
                term.press(*refund_keys(rrn, today - timedelta(days=days_ago), "1"), "ENTER")
                term.expect("APPROVED", 20)
                term.press("CANCEL")
                term.expect("FUNC: menu")
                at_idle.append(term.heap()[1])
    before, after_one, after_two = at_idle
    assert after_one - before < 12 * 1024, at_idle
    assert abs(after_two - after_one) < 1024, at_idle
