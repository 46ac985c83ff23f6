"""The documented refund, typed by a script into the emulator against ``micropos acquirer``, then exported.

Everything here runs as a user runs it: two ``micropos`` processes talking
TCP, the key sequence of design.md in a script file, and ``micropos log
export`` on the flash image the run left behind.
"""
from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import MICROPOS, run_micropos

from micropos import paths
from micropos.acquirer.ledger import Ledger

# design.md, "Operator flows": a reference-only refund of 12.34 for original
# RRN 612345678901 of 11 November, reason "damaged", with the demo password.
DOCUMENTED_KEYS = """\
key FUNC 3
key 1 2 3 4 5 6 ENTER
key ENTER
key 6 1 2 3 4 5 6 7 8 9 0 1 ENTER
key {mmdd}
key 1 2 3 4 ENTER
key 1
key ENTER
wait APPROVED 30
"""


@pytest.fixture
def acquirer(tmp_path):
    """``micropos acquirer`` as a process, seeded with the sale the documented keys refund."""
    sale_day = date.today() - timedelta(days=11)
    seed = tmp_path / "seed.csv"
    seed.write_text("rrn,date,amount,pan,expiry,currency,terminal_id,merchant_id\n"
                    f"612345678901,{sale_day.isoformat()},100.00,6212345678901232,2812,156,TERM0001,"
                    "MERCHANT0000001\n")
    db = tmp_path / "ledger.sqlite3"
    proc = subprocess.Popen([str(MICROPOS), "acquirer", "--port", "0", "--db", str(db), "--seed", str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=paths.ROOT)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"listening on ([\d.]+):(\d+)", first)
    assert match, first
    try:
        yield f"{match[1]}:{match[2]}", db, sale_day
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_documented_key_sequence_refunds_and_prints_approved_with_the_rrn(tmp_path, acquirer):
    address, db, sale_day = acquirer
    script = tmp_path / "refund.txt"
    script.write_text(DOCUMENTED_KEYS.format(mmdd=" ".join(sale_day.strftime("%m%d")) + " ENTER"))
    image = tmp_path / "flash.img"
    proc = run_micropos("emulator", "--acquirer", address, "--flash", str(image), "--script", str(script))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    screens = proc.stdout.split("----\n")
    result = next(s for s in screens if "APPROVED" in s)
    refund_rrn = re.search(r"^RRN (\d{12})$", result, re.M)
    assert refund_rrn, result
    with Ledger(db) as ledger:
        refund = ledger.by_rrn(refund_rrn[1])
        assert refund is not None and refund.amount == 1234
        assert ledger.refunded(ledger.by_rrn("612345678901").id) == 1234
    receipts = Path(str(image) + ".receipts.txt").read_text()
    assert receipts.count(refund_rrn[1]) == 2, "merchant and customer copy"
    assert "MERCHANT COPY" in receipts and "CUSTOMER COPY" in receipts

    # issue 4, acceptance 3: the journal of that run, exported with the design.md columns
    export = run_micropos("log", "export", "--flash", str(image), "--format", "csv")
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert list(rows[0]) == ["seq", "time", "type", "status", "amount", "currency", "stan", "rrn", "orig_rrn",
                             "pan", "response_code", "auth_code", "reason", "batch"]
    (row,) = rows
    assert (row["type"], row["status"], row["amount"], row["rrn"], row["orig_rrn"], row["response_code"]) == (
        "REFUND", "APPROVED", "12.34", refund_rrn[1], "612345678901", "00")
    assert row["pan"] == "" and row["reason"] == "damaged" and row["batch"] == "1"


def test_a_script_whose_refund_cannot_reach_the_acquirer_says_so_and_sends_nothing(tmp_path):
    script = tmp_path / "refund.txt"
    script.write_text(DOCUMENTED_KEYS.format(mmdd="1 1 1 1 ENTER").replace("wait APPROVED 30",
                                                                           "wait NOT DONE - nothing sent 30"))
    proc = run_micropos("emulator", "--acquirer", "127.0.0.1:9", "--flash", str(tmp_path / "f.img"),
                        "--script", str(script))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "Cannot connect" in proc.stdout


def test_cut_after_writes_then_the_next_run_is_the_reboot_that_reverses(tmp_path, acquirer):
    address, db, sale_day = acquirer
    script = tmp_path / "refund.txt"
    script.write_text(DOCUMENTED_KEYS.format(mmdd=" ".join(sale_day.strftime("%m%d")) + " ENTER"))
    image = tmp_path / "flash.img"
    boot = tmp_path / "boot.txt"
    boot.write_text("wait FUNC: menu 30\n")
    first = run_micropos("emulator", "--acquirer", address, "--flash", str(image), "--script", str(boot))
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr  # the first boot formats the settings' part
    # The refund then writes: sector erase, sector header, pending, outcome. Cut at the outcome.
    cut = run_micropos("emulator", "--acquirer", address, "--flash", str(image), "--cut-after-writes", "4",
                       "--script", str(script))
    assert cut.returncode == 0, cut.stdout[-2000:] + cut.stderr
    assert "the power failed at flash write 4" in cut.stdout
    again = run_micropos("emulator", "--acquirer", address, "--flash", str(image), "--script", str(boot))
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr
    assert "REVERSAL" in again.stdout
    rows = list(csv.DictReader(io.StringIO(run_micropos("log", "export", "--flash", str(image)).stdout)))
    assert [(r["type"], r["status"]) for r in rows] == [("REFUND", "REVERSED"), ("REVERSAL", "APPROVED")]
    with Ledger(db) as ledger:
        assert ledger.refunded(ledger.by_rrn("612345678901").id) == 0


def test_the_documented_refund_in_chinese_prints_chinese_rows_and_a_gb18030_receipt(tmp_path, acquirer):
    from micropos import receipt_render

    address, db, sale_day = acquirer
    script = tmp_path / "refund.txt"
    script.write_text("key FUNC 7 1 2\nwait FUNC:菜单\n" + DOCUMENTED_KEYS.format(
        mmdd=" ".join(sale_day.strftime("%m%d")) + " ENTER").replace("wait APPROVED 30", "wait 交易成功 30"))
    image = tmp_path / "flash.img"
    proc = run_micropos("emulator", "--acquirer", address, "--flash", str(image), "--script", str(script))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    result = next(s for s in proc.stdout.split("----\n") if "交易成功" in s)
    assert result.startswith("退货 交易成功\n") and re.search(r"^参考号 \d{12}$", result, re.M), result

    text = Path(str(image) + ".receipts.txt").read_text()
    assert "商户存根" in text and "持卡人存根" in text and "退货原因" in text
    printed = Path(str(image) + ".receipts.bin").read_bytes()
    assert b"\x1c&" + "退货".encode("gb18030") + b"\x1c." in printed, "中文 in the printer's GB18030 mode"
    assert "退".encode() not in printed, "never UTF-8 to the printer"
    pngs = receipt_render.render_file(Path(str(image) + ".receipts.bin"), tmp_path / "png")
    assert len(pngs) == 2, "merchant and customer copy"
