"""Several acquirer processes on one port and one ledger (``micropos acquirer --workers N``)."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from micropos import loadgen
from micropos.acquirer.ledger import Ledger
from micropos.acquirer.workers import WriterLock
from micropos.acquirer_cli import run as run_cli
from micropos.acquirer_cli import spawn
from micropos.errors import MicroposError

ORIGINALS = 50


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
                   for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "ledger.sqlite3"
    with Ledger(db) as ledger:
        ledger.seed_rows(loadgen.originals(ORIGINALS, loadgen.yesterday()))
    return db


def test_two_workers_share_the_load_and_apply_every_refund_once(tmp_path: Path, seeded: Path) -> None:
    proc, port = spawn(seeded, tmp_path / "acquirer.log", options=("--workers", "2"))
    try:
        processes = [proc.pid, *_children(proc.pid)]
        assert len(processes) == 2
        before = [_cpu_seconds(pid) for pid in processes]
        requests = loadgen.refunds(3000, ORIGINALS, loadgen.yesterday())
        result = asyncio.run(loadgen.run("127.0.0.1", port, requests, 40))
        busy = [_cpu_seconds(pid) - b for pid, b in zip(processes, before, strict=True)]
    finally:
        proc.terminate()
        proc.wait(10)
    assert result.codes == {"00": 3000}
    assert min(busy) > 0.25 * max(busy), f"one worker did (nearly) all the work: {busy} s"
    with sqlite3.connect(seeded) as check:
        refunds, distinct = check.execute("SELECT COUNT(*), COUNT(DISTINCT rrn) FROM txns WHERE kind = 'REFUND'"
                                          ).fetchone()
        left = check.execute("SELECT MIN(s.amount - (SELECT SUM(r.amount) FROM txns r WHERE r.orig_id = s.id)),"
                             " MAX(s.amount - (SELECT SUM(r.amount) FROM txns r WHERE r.orig_id = s.id))"
                             " FROM txns s WHERE s.kind = 'SALE'").fetchone()
    assert (refunds, distinct) == (3000, 3000)
    assert left == (10000 - 60, 10000 - 60)  # 3,000 refunds of 0.01 spread evenly over 50 sales of 100.00


def test_stopping_the_first_process_stops_every_worker(tmp_path: Path, seeded: Path) -> None:
    proc, _ = spawn(seeded, tmp_path / "acquirer.log", options=("--workers", "3"))
    workers = _children(proc.pid)
    assert len(workers) == 2
    proc.terminate()
    assert proc.wait(10) == 0
    assert _gone_within(workers, 5)


def test_stopped_in_the_middle_of_a_load_every_process_ends_cleanly(tmp_path: Path, seeded: Path) -> None:
    requests = loadgen.refunds(6000, ORIGINALS, loadgen.yesterday())
    for attempt in range(3):
        log = tmp_path / f"acquirer{attempt}.log"
        proc, port = spawn(seeded, log, options=("--workers", "2"))
        load = threading.Thread(target=_quietly, args=(port, requests[attempt * 2000:(attempt + 1) * 2000]))
        load.start()
        time.sleep(0.3 + 0.2 * attempt)  # commits, and the checkpoints on their threads, under way
        proc.terminate()
        assert proc.wait(10) == 0, log.read_text()[-2000:]
        load.join(10)
        text = log.read_text()
        assert "Traceback" not in text and "abnormally" not in text, text[-2000:]


def _quietly(port: int, requests: list[bytes]) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        loadgen.measure("127.0.0.1", port, requests, 20)


def test_ctrl_c_at_the_terminal_stops_every_worker_quietly(tmp_path: Path, seeded: Path) -> None:
    log = tmp_path / "acquirer.log"
    proc, _ = spawn(seeded, log, options=("--workers", "2"), start_new_session=True)
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: every process of the foreground group
    assert proc.wait(10) == 0
    assert _gone_within(workers, 5)
    assert "Traceback" not in log.read_text()


def test_a_worker_whose_first_process_was_killed_stops_by_itself(tmp_path: Path, seeded: Path) -> None:
    proc, _ = spawn(seeded, tmp_path / "acquirer.log", options=("--workers", "2"))
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _gone_within(workers, 5)


def test_faults_need_a_single_worker(tmp_path: Path) -> None:
    args = argparse.Namespace(host="127.0.0.1", port=0, db=str(tmp_path / "x.sqlite3"), seed=None,
                              refund_window_days=30, idle_timeout=30.0, max_connections=200, workers=2,
                              fault=["drop"])
    with pytest.raises(MicroposError, match="--workers 1"):
        run_cli(args)
    with pytest.raises(MicroposError, match="--workers"):
        run_cli(argparse.Namespace(**{**vars(args), "workers": 0, "fault": []}))


def test_a_worker_waiting_for_the_ledger_gets_it_as_soon_as_another_lets_go(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "ledger.sqlite3")
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:  # another worker: holds the lock for 0.3 s
        status = 1
        try:
            assert lock.try_acquire()
            os.write(ready_write, b"!")
            time.sleep(0.3)
            lock.release()
            status = 0
        finally:
            os._exit(status)
    try:
        assert os.read(ready_read, 1) == b"!"
        assert not lock.try_acquire()

        async def wait() -> float:
            started = time.monotonic()
            await lock.acquire()
            return time.monotonic() - started

        waited = asyncio.run(wait())
        assert 0.15 < waited < 0.5
        lock.release()
    finally:
        _, status = os.waitpid(child, 0)
    assert status == 0
