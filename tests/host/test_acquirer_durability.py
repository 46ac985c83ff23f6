"""A kill -9 at any instant loses no answered transaction: every approval a client received is in the
ledger exactly once after the acquirer is started again on the same database."""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from micropos import iso8583, loadgen
from micropos.acquirer.ledger import Ledger
from micropos.acquirer_cli import spawn

ORIGINALS = 200


def _start(db: Path, out: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    return spawn(db, out, options=("--workers", str(workers)))


async def _load(port: int, requests: list[bytes], approved: list[str], stop_after: int, kill: callable) -> None:
    """Sends requests over 20 connections; notes each approval's RRN; kills the acquirer after ``stop_after``."""
    queue = list(reversed(requests))

    async def client() -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            while queue:
                writer.write(queue.pop())
                header = await reader.readexactly(2)
                answer = iso8583.decode(await reader.readexactly(int.from_bytes(header, "big")))
                if answer["39"] == "00":
                    approved.append(answer["37"])
                if len(approved) >= stop_after:
                    kill()
        except (OSError, asyncio.IncompleteReadError):
            return  # the acquirer is gone: what this client was waiting for was never answered
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(20)))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_kill_at_several_instants_loses_no_approval(tmp_path, workers):
    db = tmp_path / "ledger.sqlite3"
    day = loadgen.yesterday()
    with Ledger(db) as ledger:
        ledger.seed_rows(loadgen.originals(ORIGINALS, day))
    requests = loadgen.refunds(3600, ORIGINALS, day)
    approved: list[str] = []
    for instant, stop_after in enumerate((40, 400, 900)):
        proc, port = _start(db, tmp_path / f"acquirer{instant}.log", workers)

        def kill(proc: subprocess.Popen[bytes] = proc) -> None:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)

        before = len(approved)
        asyncio.run(_load(port, requests[instant * 1200:(instant + 1) * 1200], approved,
                          before + stop_after, kill))
        kill()
        proc.wait()
        assert len(approved) - before >= stop_after, "the kill came after the last answer"
    proc, _ = _start(db, tmp_path / "after.log")  # starting again recovers the ledger
    proc.terminate()
    proc.wait()
    with sqlite3.connect(db) as check:
        counts = dict(check.execute(
            "SELECT rrn, COUNT(*) FROM txns WHERE kind = 'REFUND' AND reversed_at IS NULL GROUP BY rrn"))
    missing = [rrn for rrn in approved if counts.get(rrn) != 1]
    assert not missing, f"{len(missing)} of {len(approved)} approvals lost or doubled, e.g. {missing[:3]}"
    assert len(set(approved)) == len(approved)
