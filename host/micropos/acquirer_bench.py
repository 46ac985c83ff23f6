"""``make bench``, the acquirer's rows: refunds a second and latency, side by side with a stateless peer.

Both servers run in their own processes and face the same load generator
(``micropos.loadgen``: requests built before the clock starts) at 1, 10 and
100 connections; each figure is the median of three runs of ``REQUESTS``.
micropos runs as ``micropos acquirer --workers 2`` (``OPTIONS``): a worker
a core, as a 2-core machine should run it; the peer has no such option and
uses one. The peer is
iso8583sim's mock host (``requirements-bench.lock``, installed into
``var/bench-venv``, apart from the project's environment): it checks no MAC
and keeps no ledger, so it is sent the same refunds without DE 53 and DE 64.
micropos is also measured with 1,000,000 originals in its ledger, to show
that the cost of a request does not grow with it.  Each server first
answers ``WARM_UP`` requests off the clock: a ledger just seeded with a
million rows spends its first commits checkpointing them (one such run
measured 374 refunds a second, p99 7.5 s; the next ones 5,700).
"""
from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from micropos import loadgen, paths
from micropos.acquirer.ledger import Ledger
from micropos.acquirer_cli import spawn
from micropos.errors import SetupError

Row = tuple[str, str, str]
CONCURRENCY = (1, 10, 100)
REQUESTS = 20_000  # per run: long enough that the burst of 100 connections' first requests is 0.5% of it
RUNS = 3
BENCH_VENV = paths.VAR / "bench-venv"
LOCK = paths.ROOT / "requirements-bench.lock"


def _wait_for_line(out: Path, proc: subprocess.Popen[bytes], word: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in out.read_text(errors="replace").splitlines():
            if word in line:
                return line
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SetupError(f"the server did not start: {out.read_text(errors='replace')[-500:]}")


@contextmanager
def _micropos(db: Path, tmp: Path) -> Iterator[int]:
    proc, port = spawn(db, tmp / "micropos.out", options=OPTIONS)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait()


def peer_command() -> Path:
    """iso8583sim in the bench environment, installed from the pinned lock file when missing."""
    tool = BENCH_VENV / "bin" / "iso8583sim"
    if not tool.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        proc = subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                               "-r", str(LOCK)], capture_output=True, text=True)
        if proc.returncode != 0 or not tool.exists():
            raise SetupError(f"cannot install the bench peer from {LOCK.name}: {proc.stderr.strip()[-300:]}")
    return tool


@contextmanager
def _peer(tmp: Path) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    out = tmp / "peer.out"
    with out.open("wb") as log:
        proc = subprocess.Popen([str(peer_command()), "serve", "--port", str(port)], stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        _wait_for_line(out, proc, "listening")
        yield port
    finally:
        proc.terminate()
        proc.wait()


OPTIONS = ("--workers", "2")  # how ``micropos acquirer`` is started: a worker a core
WARM_UP = 1000  # requests answered before the clock starts: a fresh ledger's first commits checkpoint its seed


def _median(port: int, requests: list[bytes], concurrency: int) -> loadgen.Result:
    """The run with the median throughput of ``RUNS``, each with its own slice of the requests."""
    results = []
    for run in range(RUNS):
        chunk = requests[run * REQUESTS:(run + 1) * REQUESTS]
        results.append(loadgen.measure("127.0.0.1", port, chunk, concurrency))
    results.sort(key=lambda r: r.per_second)
    return results[len(results) // 2]


def _figure(result: loadgen.Result) -> str:
    wrong = {code: n for code, n in result.codes.items() if code != "00"}
    text = f"{result.per_second:,.0f}/s, p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms"
    return text + (f" (answers other than 00: {wrong})" if wrong else "")


def rows() -> Iterator[Row]:
    day = loadgen.yesterday()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        total = REQUESTS * RUNS * len(CONCURRENCY)
        maced = loadgen.refunds(total + WARM_UP, 1000, day)
        plain = loadgen.refunds(total + WARM_UP, 1000, day, maced=False)
        maced, maced_warm_up = maced[:total], maced[total:]
        plain, plain_warm_up = plain[:total], plain[total:]
        db = tmp / "small.sqlite3"
        with Ledger(db) as ledger:
            ledger.seed_rows(loadgen.originals(1000, day))
        ours: dict[int, loadgen.Result] = {}
        theirs: dict[int, loadgen.Result] = {}
        with _micropos(db, tmp) as port:
            loadgen.measure("127.0.0.1", port, maced_warm_up, 100)
            for n, c in enumerate(CONCURRENCY):
                ours[c] = _median(port, maced[n * REQUESTS * RUNS:], c)
        with _peer(tmp) as port:
            loadgen.measure("127.0.0.1", port, plain_warm_up, 100)
            for n, c in enumerate(CONCURRENCY):
                theirs[c] = _median(port, plain[n * REQUESTS * RUNS:], c)
        for c in CONCURRENCY:
            yield (f"acquirer refunds, {c} connection{'s' if c > 1 else ''}", _figure(ours[c]),
                   "micropos acquirer: MAC, every rule, WAL ledger on disk; 1,000 originals; median of 3")
            yield (f"iso8583sim 1.6.0 serve, {c} connection{'s' if c > 1 else ''}", _figure(theirs[c]),
                   "same load generator, same refunds without DE 53/64; no MAC, no ledger")
        ratio = ours[100].per_second / theirs[100].per_second
        yield ("acquirer / iso8583sim at 100 connections", f"{ratio:.2f}x", "refunds a second, the two rows above")
        big = tmp / "big.sqlite3"
        with Ledger(big) as ledger:
            ledger.seed_rows(loadgen.originals(1_000_000, day))
        with _micropos(big, tmp) as port:
            requests = loadgen.refunds(REQUESTS * RUNS + WARM_UP, 1_000_000, day)
            loadgen.measure("127.0.0.1", port, requests[REQUESTS * RUNS:], 100)
            scaled = _median(port, requests, 100)
        change = scaled.per_second / ours[100].per_second - 1
        yield ("acquirer refunds, 100 connections, 1,000,000 originals", _figure(scaled),
               f"as above with a ledger 1,000 times larger: {change:+.0%} against 1,000 originals")

