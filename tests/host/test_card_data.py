"""No card data in any file: logs are masked and bounded, and the leak check catches what gets through."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from micropos.carddata import DeviceLog, mask
from micropos.hil import leaks

PAN = "6212345678901232"
OTHER = "4111111111111111"


@pytest.mark.parametrize(("raw", "logged"), [
    (b">> card 6212345678901232=2812\n", b">> card 621234******1232\n"),
    (b"~scr REFUND\tCard number\t4111111111111111\t\n", b"~scr REFUND\tCard number\t411111******1111\t\n"),
    (b";4111111111111111=28121010000000?\n", b";411111******1111?\n"),
    (b"RRN 612345678901 STAN 000001 amount 000000001234\n", b"RRN 612345678901 STAN 000001 amount 000000001234\n"),
])
def test_a_log_line_keeps_first_six_and_last_four_and_no_expiry(raw, logged):
    assert mask(raw) == logged


def test_the_device_log_masks_a_card_split_across_two_reads_and_rotates(tmp_path):
    path = tmp_path / "device.log"
    log = DeviceLog(str(path), max_bytes=200, backups=2)
    log.write_lines(b"~scr PAN 62123456789")
    log.write_lines(b"01232=2812\n")
    for i in range(30):
        log.write_lines(b"~scr line %d of a long day at the till\n" % i)
    log.close()
    texts = [p.read_bytes() for p in sorted(tmp_path.iterdir())]
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["device.log", "device.log.1", "device.log.2"]
    assert all(len(t) < 300 for t in texts), "bounded"
    assert not any(PAN.encode() in t or b"2812" in t for t in texts)
    assert b"line 29" in texts[0]


def test_keys_typed_as_a_card_number_are_noted():
    leaks.forget()
    leaks.note_keys(["FUNC", "3", *"123456", "ENTER"])
    leaks.note_keys(["FUNC"])
    leaks.note_keys([*OTHER, "ENTER", *"2812", "ENTER"])
    leaks.note_keys(["ENTER", *"610000000105", "ENTER"])  # an RRN that passes the Luhn check is still no card
    assert leaks.noted() == {OTHER: set()}
    leaks.forget()


def test_the_scan_finds_every_form_of_a_leak_and_spares_the_exempt_files():
    with tempfile.TemporaryDirectory() as tmp:  # outside this session's own files, which the real check scans
        _scan_planted(Path(tmp))


def _scan_planted(tmp_path: Path) -> None:
    cards = {PAN: {"2812"}}
    (tmp_path / "clean.log").write_bytes(b"card 621234******1232 RRN 612345678901\n")
    (tmp_path / "ascii.log").write_bytes(b"... 6212345678901232 ...")
    (tmp_path / "flash.img").write_bytes(b"\xff" * 100 + bytes.fromhex(PAN) + b"\xff" * 100)
    (tmp_path / "receipt.txt").write_bytes(b"CARD 621234******1232 EXP 2812\n")
    (tmp_path / "ledger.sqlite3").write_bytes(PAN.encode())
    (tmp_path / "seed.csv").write_bytes(b"rrn,date,amount,pan,expiry\n612345678901,2026-11-11,1.00," + PAN.encode())
    (tmp_path / "refund.txt").write_bytes(b"key FUNC 3\ncard " + PAN.encode() + b"=2812\nwait APPROVED\n")
    found = {leak.path.name: leak.what for leak in leaks.scan([tmp_path], cards)}
    assert found == {
        "ascii.log": "the full PAN 621234******1232",
        "flash.img": "the full PAN 621234******1232, packed",
        "receipt.txt": "the expiry 28** beside 621234******1232",
    }
    old = tmp_path / "ascii.log"
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert "ascii.log" not in {leak.path.name for leak in leaks.scan([tmp_path], cards, since=time.time() - 60)}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "pytest-xdist"])
def test_a_planted_leak_fails_the_test_run(workers):
    with tempfile.TemporaryDirectory() as tmp:  # outside this session's own files, which the real check scans
        _run_planted(Path(tmp), workers)


def _run_planted(tmp_path: Path, workers: list[str]) -> None:
    """A card written by one test fails the run; with workers, the worker that wrote it is not the one that checks."""
    test = tmp_path / "test_planted.py"
    test.write_text(textwrap.dedent(f"""
        from micropos.hil import leaks

        def test_writes_a_card(tmp_path):
            leaks.note_card("{PAN}", "2812")
            (tmp_path / "emulator.log").write_text("swiped {PAN}=2812\\n")

        def test_writes_nothing():
            pass
    """))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *workers, str(test),
                          "--basetemp", str(tmp_path / "basetemp"), "--rootdir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    assert "card data leaked into files the terminal side wrote:" in run.stdout
    assert "emulator.log: the full PAN 621234******1232" in run.stdout
