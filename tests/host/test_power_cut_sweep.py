"""A refund cut off by the power at every flash write it causes, each dropped and half-applied.

For each cut point the emulator runs a refund against the acquirer emulator
with ``MICROPOS_CUT_AFTER_WRITES=N`` (what ``micropos emulator
--cut-after-writes N [--cut-half]`` sets), dies at that write, and boots
again on the same flash image.  After the reboot:
- the journal reads cleanly: nothing skipped but the one record or sector
  header the cut tore (never acknowledged; the firmware writes past it);
- every record written before the cut is there, none twice;
- nothing is left pending: an interrupted refund was reversed at boot;
- the journal and the acquirer's ledger agree: the refund applied once
  (journal APPROVED) or not at all (journal REVERSED or FAILED).
"""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import boot

from micropos.acquirer.ledger import SEED_COLUMNS, Ledger
from micropos.acquirer.server import start_in_thread
from micropos.demo import refund_keys
from micropos.errors import LinkError
from micropos.journal_format import POWER_CUT_TRACES
from micropos.log_export import from_flash_file
from micropos.terminal import Terminal

AMOUNT = "12.34"


def _refund(term: Terminal, rrn: str, day: date) -> None:
    term.press(*refund_keys(rrn, day, AMOUNT.replace(".", "")))
    term.expect("ENTER: send")
    term.press("ENTER")


def _sale_rows(count: int, day: date) -> list[dict[str, str]]:
    return [dict(zip(SEED_COLUMNS, (f"610000000{i:03d}", day.isoformat(), "100.00", "6212345678901232", "2812",
                                    "156", "TERM0001", "MERCHANT0000001"), strict=False)) for i in range(count)]


def _acquirer(db: Path, day: date):
    running = start_in_thread(db)
    with Ledger(db) as ledger:
        ledger.seed_rows(_sale_rows(200, day))
    return running


@pytest.mark.parametrize("prior, situation", [
    (2, "in the middle of a sector"),
    (63, "where the refund opens a new sector (erase, header, record)"),
])
def test_every_cut_point_of_a_refund_recovers_and_agrees_with_the_ledger(tmp_path, capsys, prior, situation):
    day = date.today() - timedelta(days=3)
    acquirer = _acquirer(tmp_path / "ledger.sqlite3", day)
    address = f"{acquirer.host}:{acquirer.port}"

    # The journal as a merchant's terminal has it: refunds already done.
    before_image = tmp_path / "before.img"
    term = boot(before_image, address)
    for i in range(100, 100 + prior):
        _refund(term, f"610000000{i:03d}", day)
        term.expect("APPROVED", 20)
        term.press("CANCEL")
        term.expect("FUNC: menu")
    term.close()
    before = from_flash_file(before_image).records

    # How many flash writes one more refund makes: the cut points.
    measured = tmp_path / "measured.img"
    shutil.copyfile(before_image, measured)
    term = boot(measured, address)
    start = term.flash_counters()
    _refund(term, "610000000099", day)
    term.expect("APPROVED", 20)
    end = term.flash_counters()
    term.close()
    refund_writes = (end["programs"] + end["erases"]) - (start["programs"] + start["erases"])
    assert refund_writes >= 2, "a refund writes its pending record and its outcome"

    acquirer.stop()

    cases = [(n, half) for n in range(1, refund_writes + 1) for half in (False, True)]
    for index, (n, half) in enumerate(cases):
        # Each case replays the same moment, STAN and all: each gets the bank as it was then.
        shutil.copyfile(tmp_path / "ledger.sqlite3", tmp_path / f"ledger{index}.sqlite3")
        acquirer = start_in_thread(tmp_path / f"ledger{index}.sqlite3")
        address = f"{acquirer.host}:{acquirer.port}"
        rrn = f"610000000{index:03d}"
        image = tmp_path / f"cut{n}{'h' if half else ''}.img"
        shutil.copyfile(before_image, image)
        term = boot(image, address, cut=(n, half))
        with pytest.raises(LinkError):  # the power fails at write n: the emulator dies mid-refund
            _refund(term, rrn, day)
            term.expect("the power never came back", 20)
        term.close()

        term = boot(image, address)  # the reboot: a reversal owed goes out first
        screen = term.expect("FUNC: menu", 20)
        assert "Reversal pending" not in screen, (n, half, screen)
        term.close()

        journal = from_flash_file(image)
        where = f"cut at write {n}{' (half-applied)' if half else ''}"
        # A reader may skip only what the cut itself tore: the record or sector header being written.
        assert all(s.reason in POWER_CUT_TRACES for s in journal.skipped), f"{where}: {journal.skipped}"
        assert len(journal.skipped) <= 1, f"{where}: {journal.skipped}"
        assert journal.records[:len(before)] == before, f"{where}: a record written before the cut changed"
        rows = journal.rows()
        seqs = [row["seq"] for row in rows]
        assert len(seqs) == len(set(seqs)), f"{where}: a transaction twice"
        assert not [row for row in rows if row["status"] == "PENDING"], f"{where}: left pending after boot"
        ours = [row for row in rows if row["type"] == "REFUND" and row["orig_rrn"] == rrn]
        assert len(ours) <= 1, f"{where}: the refund journalled twice"
        with Ledger(acquirer.db) as ledger:
            applied = ledger.refunded(ledger.by_rrn(rrn).id)
        status = ours[0]["status"] if ours else "not journalled"
        if status == "APPROVED":
            assert applied == 1234, f"{where}: journal says approved, ledger has {applied}"
        else:
            assert status in ("REVERSED", "FAILED", "not journalled"), f"{where}: {status}"
            assert applied == 0, f"{where}: journal says {status}, ledger has {applied}"
        acquirer.stop()
    with capsys.disabled():
        print(f"\npower-cut sweep, a refund {situation}: {len(cases)} cut points ({refund_writes} flash writes, "
              "each dropped and half-applied), every one recovered and agreed with the ledger")
