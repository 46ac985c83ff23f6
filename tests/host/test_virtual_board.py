"""A virtual board is reached as a board is: mpremote, make deploy, the HIL suite with --port."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from micropos import paths
from micropos.vboard import VirtualBoard

BIN = Path(sys.executable).parent


@pytest.fixture
def board(tmp_path):
    with VirtualBoard(fs_dir=tmp_path / "fs") as vb:
        time.sleep(0.3)
        yield vb


def mpremote(port: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "mpremote"), "connect", port, "resume", *args],
                          capture_output=True, text=True, timeout=60)


def test_mpremote_exec_fs_and_run_work_as_on_a_board(board, tmp_path):
    out = mpremote(board.port, "exec", "import sys; print(sys.implementation.name, 6 * 7)").stdout
    assert out == "micropython 42\n"
    script = tmp_path / "hello.py"
    script.write_text("print('ran', 1 + 2)\n")
    assert mpremote(board.port, "run", str(script)).stdout == "ran 3\n"
    assert mpremote(board.port, "fs", "cp", str(script), ":./hello.py").returncode == 0
    assert (board.fs_dir / "hello.py").read_text() == script.read_text()
    assert "hello.py" in mpremote(board.port, "fs", "ls").stdout


def test_make_deploy_then_code_runs_on_the_board(board):
    proc = subprocess.run(["make", "deploy", f"PORT={board.port}"], cwd=paths.ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "firmware ok on emulator" in proc.stdout
    deployed = sorted(p.name for p in board.fs_dir.iterdir())
    assert "board.mpy" in deployed and "app.mpy" in deployed and "main.py" in deployed
    assert not any(name.endswith(".py") and name != "main.py" for name in deployed)
    out = mpremote(board.port, "exec", "import keys, money; print(keys.by_name('ENTER'), money.money(1234))")
    assert out.stdout == "10 12.34\n"


def test_the_hil_suite_passes_on_the_virtual_board(board):
    subprocess.run(["make", "deploy", f"PORT={board.port}"], cwd=paths.ROOT, check=True,
                   capture_output=True, timeout=180)
    # The refund scenarios and the idle and menu tests, in English: through a board's REPL every
    # exchange of the product's hard part.  The 中文 runs (the same exchanges with other words), every
    # response code's words (tests/hil/test_outcomes.py) and the settings run on the emulator.
    proc = subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "tests/hil/test_refund_scenarios.py",
                           "tests/hil/test_idle_and_menu.py", "--port", board.port, "-k", "not zh"],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary


def test_deploy_to_a_port_that_is_not_there_says_so(micropos_cli):
    proc = micropos_cli("deploy", "--port", "/dev/nonexistent-tty")
    assert proc.returncode == 1
    assert proc.stderr.startswith("micropos: mpremote on /dev/nonexistent-tty failed")


def test_log_export_reads_the_journal_from_the_board(board, micropos_cli):
    subprocess.run(["make", "deploy", f"PORT={board.port}"], cwd=paths.ROOT, check=True,
                   capture_output=True, timeout=180)
    write = ("import board, journal as J, kinds as K\n"
             "j = J.Journal(board.journal_partition)\n"
             "s = j.append_pending(K.Txn(type=K.SALE, amount=990, currency=156, stan=7, time=1762855200,"
             " pan='4111111111111111', entry=K.ENTRY_KEYED))\n"
             "j.set_outcome(s, K.DECLINED, '', '', '05')\n")
    assert mpremote(board.port, "exec", write).returncode == 0
    proc = micropos_cli("log", "export", "--port", board.port)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("seq,time,type,status,amount")
    assert lines[1].split(",")[2:5] == ["SALE", "DECLINED", "9.90"]
