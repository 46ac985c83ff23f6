"""The acquirer's TCP front: framing, MAC checks, fault injection, and answers.

Per connection, requests are answered in order. A bad length header or a
message that does not decode closes the connection without an answer, as
the profile requires. A request whose MAC does not verify under the demo
BDK (for whatever KSN it carries) is answered A0 and changes nothing. Every
answer to a MACed request is MACed with the working key of the request's
KSN: a response carries no KSN of its own.

For tests, :func:`start_in_thread` runs a server on an ephemeral port::

    with start_in_thread(tmp_path / "ledger.sqlite3", seed=csv_path) as acquirer:
        sock = socket.create_connection(acquirer.address)
        acquirer.faults.add("delay:2")
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from micropos import iso8583
from micropos import mac as _mac
from micropos.acquirer.faults import GARBAGE, Fault, FaultKind, FaultPlan
from micropos.acquirer.ledger import Ledger
from micropos.acquirer.rules import (
    DEFAULT_REFUND_WINDOW_DAYS,
    DEMO_MERCHANT_ID,
    DEMO_TERMINAL_ID,
    MACED_MTIS,
    Acquirer,
    Code,
)

log = logging.getLogger(__name__)


@dataclass
class _Answer:
    """What to send back for one request: bytes, or nothing."""

    payload: bytes | None
    close: bool = False
    delay: float = 0.0


class AcquirerServer:
    """An asyncio TCP server in front of an :class:`Acquirer`.

    Args:
        acquirer: the rules and their ledger.
        faults: the fault plan consulted for every request.
        bdk: the base derivation key MACs are checked under.

    Attributes:
        received: every message received, unframed, in order (tests decode
            what the terminal sent from here).
    """

    def __init__(self, acquirer: Acquirer, faults: FaultPlan | None = None, bdk: bytes = _mac.DEMO_BDK) -> None:
        self.acquirer = acquirer
        self.faults = faults or FaultPlan()
        self.bdk = bdk
        self.received: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the acquirer is not listening")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Starts listening; returns the bound address (useful with port 0)."""
        self._server = await asyncio.start_server(self._serve_client, host, port)
        return self.address

    async def serve_forever(self) -> None:
        if self._server is None:
            raise RuntimeError("start() the acquirer first")
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stops listening and ends every open connection."""
        if self._server is not None:
            self._server.close()
        clients = list(self._clients)
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # -- one connection ----------------------------------------------------------

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    raw = await iso8583.read_frame(reader)
                except iso8583.FramingError as exc:
                    log.info("closing %s: %s", peer, exc)
                    return
                if raw is None:
                    return
                answer = self.answer(raw)
                if answer.delay:
                    await asyncio.sleep(answer.delay)
                if answer.payload is not None:
                    writer.write(iso8583.frame(answer.payload))
                    await writer.drain()
                if answer.close:
                    return
        except (ConnectionError, asyncio.CancelledError):
            # Ending quietly on cancel: asyncio's stream callback (3.11) logs
            # a cancelled handler task as an error.
            return
        finally:
            self._clients.discard(task)
            writer.close()

    def answer(self, raw: bytes) -> _Answer:
        """Decides the reply to one framed message (synchronous: the ledger is SQLite)."""
        self.received.append(raw)
        try:
            request = iso8583.decode(raw)
        except ValueError as exc:
            log.info("closing on an unparsable message: %s", exc)
            return _Answer(None, close=True)
        fault = self.faults.take(request)
        if fault is not None and fault.kind is FaultKind.DROP:
            return _Answer(None)
        try:
            payload = self._reply(raw, request, fault)
        except Exception:  # a bug or a broken ledger must still get the terminal an answer
            log.exception("answering %s failed", request.get("t"))
            try:
                payload = self._sign(self.acquirer.reject(request, Code.SYSTEM_ERROR), request)
            except Exception:
                log.exception("could not even answer 96")
                return _Answer(None, close=True)
        return self._misbehave(payload, fault)

    def _reply(self, raw: bytes, request: dict[str, str], fault: Fault | None) -> bytes:
        if request["t"] in MACED_MTIS:
            key = self._mac_key(request)
            if key is None or not iso8583.verify_mac(raw, key):
                return self._sign(self.acquirer.reject(request, Code.MAC_ERROR), request)
        if fault is not None and fault.kind is FaultKind.CODE:
            assert fault.code is not None
            return self._sign(self.acquirer.reject(request, fault.code), request)
        return self._sign(self.acquirer.handle(request), request)

    def _mac_key(self, request: dict[str, str]) -> bytes | None:
        try:
            return _mac.mac_working_key(self.bdk, iso8583.ksn_of(request))
        except ValueError:  # ProfileError or DukptError: no usable KSN
            return None

    def _sign(self, response: dict[str, str], request: dict[str, str]) -> bytes:
        """Encodes a response, MACed under the request's KSN when it had a usable one."""
        key = self._mac_key(request) if request.get("t") in MACED_MTIS else None
        if key is None:
            return iso8583.encode(response)
        return iso8583.apply_mac(response, key)

    @staticmethod
    def _misbehave(payload: bytes, fault: Fault | None) -> _Answer:
        if fault is None or fault.kind is FaultKind.CODE:
            return _Answer(payload)
        if fault.kind is FaultKind.DELAY:
            return _Answer(payload, delay=fault.seconds)
        if fault.kind is FaultKind.CLOSE:
            return _Answer(None, close=True)
        if fault.kind is FaultKind.GARBAGE:
            return _Answer(GARBAGE)
        if fault.kind is FaultKind.BAD_MAC:
            if payload[11] & 0x01:
                return _Answer(payload[:-1] + bytes([payload[-1] ^ 0xFF]))
            return _Answer(payload)
        raise AssertionError(f"unhandled fault {fault.kind}")


def open_acquirer(
    db: str | Path,
    seed: str | Path | None = None,
    *,
    refund_window_days: int = DEFAULT_REFUND_WINDOW_DAYS,
    clock: Callable[[], datetime] | None = None,
) -> Acquirer:
    """Opens the ledger, registers the demo terminal, seeds it, and wraps it in the rules."""
    ledger = Ledger(db)
    try:
        with ledger.atomic():
            ledger.add_terminal(DEMO_TERMINAL_ID, DEMO_MERCHANT_ID)
            if seed is not None:
                ledger.seed_csv(seed)
    except BaseException:
        ledger.close()
        raise
    return Acquirer(ledger, refund_window_days=refund_window_days, clock=clock or datetime.now)


async def serve(
    host: str,
    port: int,
    db: str | Path,
    seed: str | Path | None = None,
    *,
    refund_window_days: int = DEFAULT_REFUND_WINDOW_DAYS,
    faults: FaultPlan | Iterable[Fault | str] = (),
    clock: Callable[[], datetime] | None = None,
    bdk: bytes = _mac.DEMO_BDK,
    on_ready: Callable[[AcquirerServer], None] | None = None,
) -> None:
    """Runs the acquirer until cancelled.

    Args:
        host: address to listen on.
        port: port to listen on; 0 picks a free one (see ``on_ready``).
        db: the SQLite ledger file.
        seed: a seed CSV of settled sales, loaded (idempotently) before listening.
        refund_window_days: days after a sale that a refund is allowed.
        faults: a plan to share, or faults to start with.
        clock: the acquirer's "now"; default the local clock.
        bdk: the BDK MACs are checked under; default the demo BDK.
        on_ready: called once listening, with the server (its ``address``,
            ``faults`` and ``acquirer.ledger``).
    """
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan()
    if not isinstance(faults, FaultPlan):
        for item in faults:
            plan.add(item)
    acquirer = open_acquirer(db, seed, refund_window_days=refund_window_days, clock=clock)
    server = AcquirerServer(acquirer, plan, bdk)
    try:
        await server.start(host, port)
        if on_ready is not None:
            on_ready(server)
        await server.serve_forever()
    finally:
        await server.close()
        acquirer.ledger.close()


@dataclass
class RunningAcquirer:
    """An acquirer serving from a background thread; stop it (or use ``with``) when done."""

    host: str
    port: int
    faults: FaultPlan
    server: AcquirerServer
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _task: asyncio.Task[None] = field(repr=False)
    db: Path | None = None  # the ledger file: open it with ``Ledger(db)`` to look

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def acquirer(self) -> Acquirer:
        """The rules; ``acquirer.clock`` and ``acquirer.refund_window_days`` may be changed live."""
        return self.server.acquirer

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(timeout)

    def __enter__(self) -> RunningAcquirer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    db: str | Path,
    seed: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    refund_window_days: int = DEFAULT_REFUND_WINDOW_DAYS,
    faults: Iterable[Fault | str] = (),
    clock: Callable[[], datetime] | None = None,
    bdk: bytes = _mac.DEMO_BDK,
    timeout: float = 10.0,
) -> RunningAcquirer:
    """Starts :func:`serve` on its own event loop in a daemon thread and waits until it listens.

    Raises:
        Whatever opening the ledger, seeding or binding raised.
        TimeoutError: it did not start within ``timeout`` seconds.
    """
    plan = FaultPlan()
    for item in faults:
        plan.add(item)
    ready = threading.Event()
    started: dict[str, object] = {}
    loop = asyncio.new_event_loop()

    def on_ready(server: AcquirerServer) -> None:
        started["server"] = server
        ready.set()

    async def main() -> None:
        started["task"] = asyncio.current_task()
        await serve(host, port, db, seed, refund_window_days=refund_window_days, faults=plan, clock=clock,
                    bdk=bdk, on_ready=on_ready)

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # reported to the caller waiting on `ready`
            started["error"] = exc
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=run, name="micropos-acquirer", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise TimeoutError(f"the acquirer did not start within {timeout} s")
    if "error" in started:
        raise started["error"]  # type: ignore[misc]
    server = started["server"]
    assert isinstance(server, AcquirerServer)
    host_bound, port_bound = server.address
    task = started["task"]
    assert isinstance(task, asyncio.Task)
    return RunningAcquirer(host_bound, port_bound, plan, server, loop, thread, task, Path(db))
