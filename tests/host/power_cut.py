"""The power-cut sweep: an operation cut off at every flash write it makes, then again during the recovery.

For one operation (a sale, a refund, a void, a settlement) in one situation
of the journal (records in the middle of a sector, the operation opening a
new sector, the operation reclaiming a settled sector of a full journal):

1. the flash writes the operation makes are counted (the cut points);
2. for each, dropped and then half-applied, the emulator runs the
   operation with ``MICROPOS_CUT_AFTER_WRITES=N`` (``micropos emulator
   --cut-after-writes N [--cut-half]``), dies at that write, and boots
   again on the same image: what it owes (a reversal, a settlement) goes
   out before anything else;
3. for each write that boot-time recovery makes, a second cut falls there
   (dropped), and the terminal boots once more;
4. then, every time: the export parses, with nothing skipped but what the
   cuts tore; every record written before the cut is unchanged; nothing is
   there twice or left pending; the ledger agrees (each approved sale,
   refund and void of the journal is applied exactly once at the acquirer,
   and nothing else of this terminal's is; the batch the settlement closed
   is closed on both sides, or on neither); and a sale, then a void of it,
   are approved: the terminal and the acquirer agree on the open batch.

Each case replays the same moment, STAN and all, so each gets the bank as
it was at that moment: a copy of the ledger.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from micropos import iso8583
from micropos.acquirer.ledger import SEED_COLUMNS, Ledger
from micropos.acquirer.server import RunningAcquirer, start_in_thread
from micropos.demo import refund_keys
from micropos.errors import LinkError
from micropos.journal_format import MARK_SETTLED, POWER_CUT_TRACES, Mark
from micropos.log_export import from_flash_file
from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport

PAN, EXPIRY = "6212345678901232", "3012"
PASSWORD = "123456"
TERMINAL_ID = "TERM0001"
SEEDED_DAY = date.today() - timedelta(days=3)
SEEDED = [f"610000000{i:03d}" for i in range(400)]  # settled sales of other days, for refunds
JOURNAL_SECTORS = 2  # the "reclaim" situation's journal: two sectors, so filling one reclaims the other


def boot(flash: Path, address: str, cut: tuple[int, bool] | None = None, sectors: int | None = None) -> Terminal:
    env = {"MICROPOS_FLASH": str(flash), "MICROPOS_ACQUIRER": address}
    if cut:
        env["MICROPOS_CUT_AFTER_WRITES"] = str(cut[0])
        env["MICROPOS_CUT_HALF"] = "1" if cut[1] else "0"
    if sectors:
        env["MICROPOS_JOURNAL_SECTORS"] = str(sectors)
    term = Terminal(EmulatorTransport(env=env))
    term.ready()
    return term


def sale(term: Terminal, amount: str = "100", send: bool = True) -> None:
    term.press("FUNC", "1", *amount, "ENTER")
    term.expect("Swipe card")
    term.swipe(PAN, EXPIRY)
    term.expect("ENTER: send")
    if send:
        term.press("ENTER")


def done(term: Terminal, words: str = "APPROVED") -> None:
    term.expect(words, 20)
    term.press("CANCEL")
    term.expect("FUNC: menu", 20)


def void(term: Terminal, voucher: str) -> None:
    term.press("FUNC", "2", *PASSWORD, "ENTER", *voucher, "ENTER", "ENTER")
    term.expect("Swipe card")
    term.swipe(PAN, EXPIRY)
    term.expect("ENTER: send")
    term.press("ENTER")


def refund(term: Terminal, rrn: str) -> None:
    term.press(*refund_keys(rrn, SEEDED_DAY, "1234"))
    term.expect("ENTER: send")
    term.press("ENTER")


def settle(term: Terminal) -> None:
    term.press("FUNC", "5", "ENTER")


@dataclass
class Situation:
    """A journal before the operation: its image, the ledger as it was, and the voucher a void can cancel."""

    name: str
    image: Path
    ledger: Path
    voucher: str = ""
    sectors: int | None = None
    records: list = field(default_factory=list)
    approved: set[str] = field(default_factory=set)  # the RRNs the journal had approved before the operation


def prepare(tmp: Path, name: str) -> Situation:
    """Builds the situation through the terminal itself, against a real acquirer."""
    db = tmp / f"{name}.sqlite3"
    with Ledger(db) as ledger:
        ledger.seed_rows([dict(zip(SEED_COLUMNS, (rrn, SEEDED_DAY.isoformat(), "100.00", PAN, "2812", "156",
                                                  TERMINAL_ID, "MERCHANT0000001"), strict=False))
                          for rrn in SEEDED])
    situation = Situation(name, tmp / f"{name}.img", db, sectors=JOURNAL_SECTORS if name == "reclaim" else None)
    acquirer = start_in_thread(db)
    term = boot(situation.image, f"{acquirer.host}:{acquirer.port}", sectors=situation.sectors)
    # A 4 KB sector takes 63 sales (32 bytes of header, 64 a sale).  So: 2 sales (the middle of a
    # sector); 63, and the operation's first write opens the next sector; or, in a two-sector journal,
    # 62 sales and their settlement filling the first sector (no room left for a sale of the next
    # batch), then 63 sales filling the second, and the operation reclaims the first.
    count = {"middle": 1, "boundary": 62, "reclaim": 62}[name]
    for _ in range(count):
        sale(term)
        done(term)
    if name == "reclaim":
        settle(term)
        done(term, "Batch closed")
        for _ in range(62):
            sale(term)
            done(term)
    sale(term)
    done(term)
    term.close()
    acquirer.stop()
    rows = from_flash_file(situation.image).rows()
    situation.voucher = next(row["stan"] for row in reversed(rows) if row["type"] == "SALE")
    situation.records = from_flash_file(situation.image).records
    situation.approved = {row["rrn"] for row in rows if row["status"] == "APPROVED" and row["type"] != "SETTLEMENT"}
    return situation


OPERATIONS: dict[str, Callable[[Terminal, Situation, int], None]] = {
    "sale": lambda term, situation, case: sale(term, "250"),
    "refund": lambda term, situation, case: refund(term, SEEDED[case]),
    "void": lambda term, situation, case: void(term, situation.voucher),
    "settlement": lambda term, situation, case: settle(term),
}


def _writes(term: Terminal) -> int:
    counters = term.flash_counters()
    return counters["programs"] + counters["erases"]


def _case_bank(situation: Situation, tmp: Path, label: str) -> RunningAcquirer:
    """The bank as it was when the situation was prepared (each case replays that moment)."""
    db = tmp / f"{label}.sqlite3"
    shutil.copyfile(situation.ledger, db)
    return start_in_thread(db)


def sweep(situation: Situation, operation: str, tmp: Path) -> tuple[int, int]:
    """Runs every cut point of ``operation`` in ``situation``: (first cuts, second cuts during recovery)."""
    run = OPERATIONS[operation]
    # the cut points: how many flash writes the operation makes
    acquirer = _case_bank(situation, tmp, f"{operation}-measured")
    image = tmp / f"{operation}-measured.img"
    shutil.copyfile(situation.image, image)
    term = boot(image, f"{acquirer.host}:{acquirer.port}", sectors=situation.sectors)
    start = term.flash_counters()
    run(term, situation, 0)
    done(term, "Batch closed" if operation == "settlement" else "APPROVED")
    end = term.flash_counters()
    term.close()
    acquirer.stop()
    writes = end["programs"] + end["erases"] - start["programs"] - start["erases"]
    assert writes >= 2, f"{operation}: {writes} writes"
    if situation.name in ("boundary", "reclaim") and operation != "settlement":
        assert end["erases"] > start["erases"], f"{operation} in {situation.name}: no sector opened"

    firsts = seconds = 0
    for n in range(1, writes + 1):
        for half in (False, True):
            label = f"{operation}-{n}{'h' if half else ''}"
            acquirer = _case_bank(situation, tmp, label)
            address = f"{acquirer.host}:{acquirer.port}"
            image = tmp / f"{label}.img"
            shutil.copyfile(situation.image, image)
            firsts += 1
            case = firsts  # a refund of its own seeded sale for each case

            def operate(term: Terminal, case: int = case) -> None:
                run(term, situation, case)
            _die(image, address, situation, operate, (n, half))
            # the recovery's own writes, each cut once (dropped), on a copy of the image and the ledger
            # (copied with the acquirer stopped: its write-ahead log is then in the database file)
            acquirer.stop()
            after_cut = tmp / f"{label}-after.img"
            shutil.copyfile(image, after_cut)
            shutil.copyfile(acquirer.db, tmp / f"{label}-after.sqlite3")
            acquirer = start_in_thread(acquirer.db)
            address = f"{acquirer.host}:{acquirer.port}"
            term = boot(image, address, sectors=situation.sectors)
            term.expect("FUNC: menu", 20)
            recovery = _writes(term)  # what the boot wrote: a reversal, a settlement's answer, a mark
            term.close()
            check(image, acquirer, situation, f"{label}: cut at write {n}{' (half)' if half else ''}", cuts=1)
            acquirer.stop()
            for k in range(1, recovery + 1):
                db = tmp / f"{label}-again{k}.sqlite3"
                shutil.copyfile(tmp / f"{label}-after.sqlite3", db)
                again = start_in_thread(db)
                image2 = tmp / f"{label}-again{k}.img"
                shutil.copyfile(after_cut, image2)
                address2 = f"{again.host}:{again.port}"
                _die(image2, address2, situation, None, (k, False))
                term = boot(image2, address2, sectors=situation.sectors)
                term.expect("FUNC: menu", 20)
                term.close()
                check(image2, again, situation, f"{label}, then cut at recovery write {k}", cuts=2)
                again.stop()
                seconds += 1
    return firsts, seconds


def _die(image: Path, address: str, situation: Situation, run: Callable[[Terminal], None] | None,
         cut: tuple[int, bool]) -> None:
    """Boots with the power set to fail at write ``cut``, runs ``run`` (or only the boot), and sees it die."""
    try:
        term = boot(image, address, cut=cut, sectors=situation.sectors)
    except LinkError:
        return  # it died while booting (recovery writes before the terminal is ready)
    try:
        if run is not None:
            run(term)
        term.expect("the power never came back", 30)
    except LinkError:
        pass
    finally:
        term.close()


def check(image: Path, acquirer: RunningAcquirer, situation: Situation, where: str, cuts: int) -> None:
    """What must hold after the cuts and the reboots; then a sale and its void are approved."""
    journal = from_flash_file(image)
    assert all(s.reason in POWER_CUT_TRACES for s in journal.skipped), f"{where}: {journal.skipped}"
    assert len(journal.skipped) <= cuts, f"{where}: {journal.skipped}"
    kept = situation.records
    if situation.name == "reclaim":  # the settled batch's records may go with their sector: the rest stay
        settled = max(i for i, record in enumerate(kept) if isinstance(record, Mark) and record.code == MARK_SETTLED)
        kept = kept[settled + 1:]
    at = journal.records.index(kept[0]) if kept[0] in journal.records else -1
    assert journal.records[at:at + len(kept)] == kept, f"{where}: an earlier record changed or went"
    rows = journal.rows()
    seqs = [row["seq"] for row in rows]
    assert len(seqs) == len(set(seqs)), f"{where}: a transaction twice"
    assert not [row for row in rows if row["status"] == "PENDING"], f"{where}: left pending after boot"
    approved = {row["rrn"] for row in rows if row["type"] in ("SALE", "REFUND", "VOID")
                and row["status"] in ("APPROVED", "VOIDED")}
    reclaimed = situation.approved - {row["rrn"] for row in rows}  # a settled sector's, gone for its room
    with Ledger(acquirer.db) as ledger:
        applied = {t.rrn for t in ledger.transactions()
                   if t.terminal_id == TERMINAL_ID and t.source != "seed" and not t.reversed}
        assert approved | reclaimed == applied, f"{where}: journal approved {sorted(approved ^ applied)} apart"
        for row in rows:
            if row["type"] == "SETTLEMENT" and row["status"] in ("APPROVED", "DECLINED"):
                closed = ledger.closed_batch(TERMINAL_ID, row["batch"])
                if row["status"] == "APPROVED":
                    assert closed is not None, f"{where}: settled here, open at the acquirer"
                elif row["response_code"] != "95":
                    assert closed is None, f"{where}: declined here, closed at the acquirer"
    # the same open batch on both sides: a new sale and its void are approved
    term = boot(image, f"{acquirer.host}:{acquirer.port}", sectors=situation.sectors)
    sale(term, "333")
    done(term)
    void(term, iso8583.decode(acquirer.server.received[-1])["11"])
    done(term)
    term.close()


def run(tmp: Path, record_property: Callable[[str, object], None], situation: str, operations: tuple[str, ...]) -> None:
    """Sweeps ``operations`` in ``situation``; each count is printed at the end of the run (plugin), also under
    pytest-xdist."""
    prepared = prepare(tmp, situation)
    for operation in operations:
        firsts, seconds = sweep(prepared, operation, tmp)
        record_property("power-cut sweep", f"a {operation}, {situation}: {firsts} cut points, then {seconds} more "
                                           "during the recovery")
