"""``micropos acquirer``: run the acquirer emulator in the foreground.

On start it prints one line with the address it listens on, then the table
of refundable sales (so a newcomer can refund one at once), then serves
until interrupted.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TextIO

import uvloop

from micropos import paths
from micropos.acquirer import workers
from micropos.acquirer.faults import FaultPlan, parse_fault
from micropos.acquirer.ledger import RefundableSale
from micropos.acquirer.rules import DEFAULT_REFUND_WINDOW_DAYS
from micropos.acquirer.server import (
    DEFAULT_IDLE_TIMEOUT_S,
    DEFAULT_MAX_CONNECTIONS,
    AcquirerServer,
    open_acquirer,
    serve,
)
from micropos.errors import MicroposError, SetupError

LISTENING = "micropos acquirer listening on"  # the first line it prints, then the address
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8583
DEFAULT_WORKERS = 1

HELP = "run the acquirer emulator (the bank's host) over TCP"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Adds the ``acquirer`` subcommand; its handler is also set as ``func``."""
    p: argparse.ArgumentParser = subparsers.add_parser("acquirer", help=HELP, description=HELP)
    p.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port, 0 for any free one (default: %(default)s)")
    p.add_argument("--db", default=str(paths.VAR / "acquirer" / "ledger.sqlite3"), metavar="FILE",
                   help="SQLite ledger, kept across runs (default: %(default)s)")
    p.add_argument("--seed", metavar="CSV",
                   help="settled sales to load: rrn,date,amount,pan,expiry,currency,terminal_id,merchant_id")
    p.add_argument("--refund-window-days", type=int, default=DEFAULT_REFUND_WINDOW_DAYS, metavar="N",
                   help="days after a sale that it may be refunded (default: %(default)s)")
    p.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT_S, metavar="S",
                   help="close a connection idle (or stuck inside a message) this long (default: %(default)g s)")
    p.add_argument("--max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS, metavar="N",
                   help="open connections at most; the longest-idle one makes room (default: %(default)s)")
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="N",
                   help="processes answering on the port, taking turns at the ledger (default: %(default)s)")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="inject a fault, e.g. delay:5 | drop,count=2 | close,mti=0400 | garbage | "
                        "code:05,mti=0200,pc=200000 | badmac (repeatable)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Serves until interrupted; raises MicroposError for anything the user can fix."""
    plan = FaultPlan()
    for spec in args.fault:
        plan.add(parse_fault(spec))
    if args.refund_window_days < 0:
        raise MicroposError(f"--refund-window-days must be 0 or more, not {args.refund_window_days}")
    if args.idle_timeout <= 0 or args.max_connections < 1:
        raise MicroposError("--idle-timeout and --max-connections must be positive")
    if args.workers < 1:
        raise MicroposError(f"--workers must be 1 or more, not {args.workers}")
    if args.workers > 1 and args.fault:
        raise MicroposError("--fault needs --workers 1: each worker would count the faults apart")
    try:
        sockets = workers.listeners(args.host, args.port, args.workers)
    except OSError as exc:
        raise MicroposError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    seed = args.seed
    lock = None
    if args.workers > 1:  # the schema and the seed once, before the workers share the ledger
        open_acquirer(args.db, seed).ledger.close()
        seed = None
        lock = workers.WriterLock(args.db)
    options: dict[str, Any] = {"refund_window_days": args.refund_window_days, "idle_timeout": args.idle_timeout,
                               "max_connections": args.max_connections, "writer_lock": lock}

    def ready(server: AcquirerServer) -> None:
        host, port = server.address
        print(f"{LISTENING} {host}:{port} (ledger {args.db})", flush=True)
        print_refundable(server.acquirer.ledger.refundable_sales(), sys.stdout)

    # What exists by now lives as long as the process: out of the collector's sight, a full collection
    # takes under a millisecond instead of 8 (a pause every answer waiting on the ledger would share).
    gc.freeze()
    first = os.getpid()
    pids = workers.fork_workers(sockets, lambda sock: uvloop.run(_worker(first, args.host, args.db, sock, options)))
    try:
        uvloop.run(_until_terminated(serve(args.host, args.port, args.db, seed, faults=plan, on_ready=ready,
                                           listener=sockets[0], **options)))
    except KeyboardInterrupt:
        return 0
    finally:
        failed = [status for status in workers.stop_workers(pids) if status != 0]
        if failed:
            print(f"micropos acquirer: {len(failed)} worker(s) ended abnormally (exit status {failed})",
                  file=sys.stderr)
    return 0


async def _until_terminated(serving: Coroutine[Any, Any, None]) -> None:
    """Runs ``serving``; SIGTERM stops it as Ctrl-C does, so that the workers are stopped with it."""
    task = asyncio.ensure_future(serving)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _worker(first: int, host: str, db: str, sock: socket.socket, options: dict[str, Any]) -> None:
    """One more worker: serves until it is told to stop (SIGTERM), or finds the process that started it gone."""
    serving = asyncio.ensure_future(serve(host, 0, db, listener=sock, checkpoints=False, **options))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, serving.cancel)
    while not serving.done():
        await asyncio.wait({serving}, timeout=1.0)
        if workers.orphaned(first):
            serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)


def print_refundable(sales: list[RefundableSale], out: TextIO) -> None:
    """The refundable sales as a fixed-width table (or a line saying there are none)."""
    if not sales:
        print("no refundable sales in the ledger (load some with --seed CSV)", file=out, flush=True)
        return
    print(f"{'RRN':<12}  {'DATE':<10}  {'AMOUNT':>12}  {'REMAINING':>12}  CUR  MERCHANT", file=out)
    for sale in sales:
        print(
            f"{sale.rrn:<12}  {sale.date.isoformat():<10}  {sale.amount_text:>12}  {sale.remaining_text:>12}"
            f"  {sale.currency}  {sale.merchant_id}",
            file=out,
        )
    out.flush()


def spawn(db: Path, log: Path, *, errors: Path | None = None, options: tuple[str, ...] = (),
          **popen: Any) -> tuple[subprocess.Popen[bytes], int]:
    """``micropos acquirer --port 0 --db DB`` in a process of its own; the process and the port it took.

    Its output goes to ``log`` (a pipe would fill up with the table of
    refundable sales and stop it), its errors there too or to ``errors``.

    Raises:
        SetupError: it did not say it was listening within 60 s.
    """
    with log.open("wb") as out, (errors or log).open("ab") as err:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "micropos"), "acquirer", "--port", "0",
                                 "--db", str(db), *options], stdout=out,
                                stderr=err if errors else subprocess.STDOUT, **popen)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith(LISTENING):
                return proc, int(line.split()[4].rsplit(":", 1)[1])
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise SetupError(f"the acquirer did not start: {log.read_text(errors='replace')[-500:]}")
