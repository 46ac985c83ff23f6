"""``micropos log export`` on an emulator flash image written by the firmware's own journal."""
from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

from micropos import paths
from micropos.log_export import emulator_journal_span

COLUMNS = "seq,time,type,status,amount,currency,stan,rrn,orig_rrn,pan,response_code,auth_code,reason,batch"

# Writes two transactions through the emulator board's journal partition, as the app will.
WRITE = """
import emulator as board, journal as J, kinds as K
j = J.Journal(board.journal_partition)
s = j.append_pending(K.Txn(type=K.SALE, amount=5000, currency=156, stan=1, time=1762855200,
                           pan="6212345678901232", entry=K.ENTRY_SWIPE))
j.set_outcome(s, K.APPROVED, "531500000001", "A1B2C3", "00")
r = j.append_pending(K.Txn(type=K.REFUND, amount=1234, currency=156, stan=2, time=1762855300,
                           entry=K.ENTRY_NONE, reason=1, orig_rrn="612345678901", orig_date=1111))
"""


def make_image(tmp_path: Path) -> Path:
    image = tmp_path / "flash.img"
    env = paths.micropython_env()
    env["MICROPOS_FLASH"] = str(image)
    subprocess.run([str(paths.micropython()), "-X", "heapsize=1m", "-c", WRITE], env=env, check=True,
                   cwd=tmp_path, timeout=60)
    return image


def test_csv_has_the_design_columns_and_latest_status(tmp_path, micropos_cli):
    image = make_image(tmp_path)
    proc = micropos_cli("log", "export", "--flash", str(image), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == COLUMNS
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["type"], r["status"], r["amount"]) for r in rows] == [("SALE", "APPROVED", "50.00"),
                                                                     ("REFUND", "PENDING", "12.34")]
    sale, refund = rows
    assert sale["pan"] == "621234******1232" and sale["rrn"] == "531500000001" and sale["auth_code"] == "A1B2C3"
    assert refund["orig_rrn"] == "612345678901" and refund["stan"] == "000002"
    assert sale["time"] == "2025-11-11T10:00:00Z"


def test_json_has_the_same_rows_with_numbers_as_numbers(tmp_path, micropos_cli):
    image = make_image(tmp_path)
    proc = micropos_cli("log", "export", "--flash", str(image), "--format", "json")
    rows = json.loads(proc.stdout)
    assert list(rows[0]) == COLUMNS.split(",")
    assert [r["seq"] for r in rows] == [1, 2]
    assert [r["amount"] for r in rows] == [50.0, 12.34] and rows[0]["batch"] == 1
    assert rows[1]["stan"] == "000002" and rows[0]["currency"] == "156", "identifiers keep their leading zeros"


VOID_AFTER_SALE = """
v = j.append_pending(K.Txn(type=K.VOID, amount=5000, currency=156, stan=3, time=1762855400,
                           pan="6212345678901232", entry=K.ENTRY_SWIPE, orig_rrn="531500000001"))
j.set_outcome(v, K.APPROVED, "531500000009", "A1B2C4", "00")
"""


def test_a_voided_sale_exports_as_voided(tmp_path, micropos_cli, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "WRITE", WRITE + VOID_AFTER_SALE)
    image = make_image(tmp_path)
    proc = micropos_cli("log", "export", "--flash", str(image), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["type"], r["status"]) for r in rows] == [("SALE", "VOIDED"), ("REFUND", "PENDING"),
                                                        ("VOID", "APPROVED")]


MANY_SALES = """
for n in range(800):  # far more than a pipe holds (64 KB), so the writer meets the closed end
    s = j.append_pending(K.Txn(type=K.SALE, amount=100 + n, currency=156, stan=10 + n, time=1762855500 + n,
                               pan="6212345678901232", entry=K.ENTRY_SWIPE))
    j.set_outcome(s, K.APPROVED, "5315%08d" % n, "A1B2C3", "00")
"""


def test_a_closed_pipe_ends_the_export_quietly(tmp_path, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "WRITE", WRITE + MANY_SALES)
    image = make_image(tmp_path)
    micropos = Path(paths.ROOT / ".venv" / "bin" / "micropos")
    proc = subprocess.run(f"{micropos} log export --flash {image} --format json | head -c 10", shell=True,
                          capture_output=True, text=True, cwd=paths.ROOT, timeout=60)
    assert proc.stdout.startswith("[") and "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_a_damaged_image_reports_what_it_skipped_and_exports_the_rest(tmp_path, micropos_cli):
    image = make_image(tmp_path)
    offset, _ = emulator_journal_span()
    data = bytearray(image.read_bytes())
    # Corrupt a byte inside the second record (the refund): its CRC no longer matches.
    data[offset + 32 + 39 + 25 + 10] ^= 0xFF
    image.write_bytes(bytes(data))
    proc = micropos_cli("log", "export", "--flash", str(image))
    assert proc.returncode == 0
    assert "skipped: sector 0" in proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["type"] for r in rows] == ["SALE"]


def test_a_missing_image_is_one_line(tmp_path, micropos_cli):
    proc = micropos_cli("log", "export", "--flash", str(tmp_path / "none.img"))
    assert proc.returncode == 1
    assert proc.stderr == f"micropos: no flash image {tmp_path / 'none.img'}\n"
