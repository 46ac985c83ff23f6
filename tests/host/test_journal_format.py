"""The CPython reader against an image written by the MicroPython journal on the unix port."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from micropos import journal_format as jf
from micropos import paths

SECTORS = 4
BLOCK = 4096

# Runs on the unix port: a refund approved, a sale declined, a sale reversed, a
# settlement, then a sale left pending (the power went before its outcome).
WRITER = """
from sim_flash import FileFlash
import journal as J
import kinds as K
dev = FileFlash(PATH, SECTORS)
j = J.Journal(dev, first_batch=41)
r = j.append_pending(K.Txn(type=K.REFUND, amount=1234, currency=156, stan=7, time=1762855200,
                           pan="6212345678901234567", entry=K.ENTRY_SWIPE, reason=1,
                           orig_rrn="612345678901", orig_date=1111))
j.set_outcome(r, K.APPROVED, "531500000042", "A1B2C3", "00")
d = j.append_pending(K.Txn(type=K.SALE, amount=50000, currency=392, stan=8, time=1762855300,
                           pan="4111111111111111", entry=K.ENTRY_KEYED))
j.set_outcome(d, K.DECLINED, "531500000043", "", "51")
s = j.append_pending(K.Txn(type=K.SALE, amount=99, stan=9, time=1762855400, pan="4111111111111111"))
j.set_outcome(s, K.APPROVED, "531500000044", "ok0001", "00")
v = j.append_pending(K.Txn(type=K.REVERSAL, amount=99, stan=9, time=1762855500, reason=98))
j.set_outcome(v, K.APPROVED, "", "", "00")
j.set_outcome(s, K.REVERSED, "531500000044", "ok0001", "00")
t = j.append_pending(K.Txn(type=K.SETTLEMENT, amount=0, stan=10, time=1762855600))
j.set_outcome(t, K.APPROVED, "", "", "00")
j.mark_settled(41)
j.append_pending(K.Txn(type=K.SALE, amount=700, stan=1, time=1762855700, pan="4111111111111111"))
print("written", j.next_seq)
"""


def write_image(path: Path) -> None:
    script = WRITER.replace("PATH", repr(str(path))).replace("SECTORS", str(SECTORS))
    proc = subprocess.run([str(paths.micropython()), "-c", script], env=paths.micropython_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "written" in proc.stdout, proc.stdout + proc.stderr


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "flash.img"
    write_image(path)
    return path


def test_rows_have_the_design_columns_and_latest_status(image: Path) -> None:
    journal = jf.read_image(image)
    assert journal.skipped == []
    rows = journal.rows()
    assert list(rows[0]) == list(jf.CSV_COLUMNS)
    assert [(r["seq"], r["type"], r["status"]) for r in rows] == [
        ("1", "REFUND", "APPROVED"), ("2", "SALE", "DECLINED"), ("3", "SALE", "REVERSED"),
        ("4", "REVERSAL", "APPROVED"), ("5", "SETTLEMENT", "APPROVED"), ("7", "SALE", "PENDING")]
    refund = rows[0]
    assert refund == {
        "seq": "1", "time": "2025-11-11T10:00:00Z", "type": "REFUND", "status": "APPROVED", "amount": "12.34",
        "currency": "156", "stan": "000007", "rrn": "531500000042", "orig_rrn": "612345678901",
        "pan": "621234*********4567", "response_code": "00", "auth_code": "A1B2C3", "reason": "damaged",
        "batch": "41"}
    assert rows[1]["amount"] == "50000" and rows[1]["response_code"] == "51"  # yen has no minor unit
    assert rows[3]["reason"] == "no response"
    assert rows[2]["auth_code"] == "ok0001"
    assert rows[-1]["batch"] == "42" and rows[-1]["rrn"] == ""


def test_no_full_pan_in_the_image(image: Path) -> None:
    data = image.read_bytes()
    assert b"6212345678901234567" not in data and b"4111111111111111" not in data


def test_csv_rows_start_with_the_header(image: Path) -> None:
    rows = list(jf.iter_rows(jf.read_image(image)))
    assert rows[0] == list(jf.CSV_COLUMNS)
    assert len(rows) == 7 and all(len(r) == len(jf.CSV_COLUMNS) for r in rows)


def test_marks_are_records_but_not_rows(image: Path) -> None:
    journal = jf.read_image(image)
    marks = [r for r in journal.records if isinstance(r, jf.Mark)]
    assert marks == [jf.Mark(seq=6, code=jf.MARK_SETTLED, value=41)]


def test_a_corrupt_record_is_reported_and_the_rest_exported(image: Path) -> None:
    data = bytearray(image.read_bytes())
    first_record = jf.HEADER_SIZE
    data[first_record + 10] ^= 0x01  # the refund's amount
    image.write_bytes(bytes(data))
    journal = jf.read_image(image)
    assert [str(s) for s in journal.skipped] == ["sector 0 offset 32 (39 bytes): record checksum mismatch"]
    assert [r["seq"] for r in journal.rows()] == ["2", "3", "4", "5", "7"]


def test_a_torn_write_at_the_end_is_reported(image: Path) -> None:
    data = bytearray(image.read_bytes())
    end = data.index(b"\xff" * 64, jf.HEADER_SIZE)
    data[end: end + 5] = bytes([jf.TAG_PENDING, 8, 0, 0, 0])
    image.write_bytes(bytes(data))
    journal = jf.read_image(image)
    assert len(journal.skipped) == 1 and journal.skipped[0].offset == end
    assert journal.skipped[0].reason == jf.TORN_TAIL
    assert len(journal.rows()) == 6


def test_unknown_bytes_stop_that_sector_only(image: Path) -> None:
    data = bytearray(image.read_bytes())
    data[jf.HEADER_SIZE + jf.PENDING_SIZE] = 0x42  # the refund's outcome tag
    image.write_bytes(bytes(data))
    journal = jf.read_image(image)
    assert journal.skipped[0].reason.startswith("unknown bytes")
    assert [r["seq"] for r in journal.rows()] == ["1"] and journal.rows()[0]["status"] == "PENDING"


def test_a_half_erased_sector_is_reported_not_fatal(image: Path) -> None:
    data = bytearray(image.read_bytes())
    data[2 * BLOCK: 2 * BLOCK + 8] = b"MPJ\x01\x00\x00\x00\x00"
    data[3 * BLOCK - 10: 3 * BLOCK] = b"\x00" * 10
    image.write_bytes(bytes(data))
    journal = jf.read_image(image)
    assert [s.sector for s in journal.skipped] == [2]
    assert len(journal.rows()) == 6


def test_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.img"
    path.write_bytes(b"\xff" * 100)
    with pytest.raises(jf.JournalFormatError):
        jf.read_image(path)


def test_a_partition_inside_a_bigger_flash_file(image: Path, tmp_path: Path) -> None:
    flash = tmp_path / "whole.img"
    flash.write_bytes(b"\x00" * (2 * BLOCK) + image.read_bytes() + b"\x00" * BLOCK)
    journal = jf.read_image(flash, offset=2 * BLOCK, length=SECTORS * BLOCK)
    assert len(journal.rows()) == 6 and journal.skipped == []
