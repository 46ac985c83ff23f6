"""The acquirer's TCP front: framing, MAC checks, fault injection, and answers.

Per connection, requests are answered in order. A bad length header or a
message that does not decode closes the connection without an answer, as
the profile requires.

Durable and quick: requests that arrive together are applied in one
transaction and committed with one fsync (``commit.GroupCommit``), and an
answer leaves only once its change is on disk.

Bounded whatever the traffic: a connection idle (or stuck inside a frame)
for ``idle_timeout`` seconds is closed; at ``max_connections`` the
longest-idle connection is closed to make room for a new one, with one log
line, so a crowd of idle clients can never exhaust the file descriptors a
new client needs; ``received`` keeps only the latest messages.

A request whose MAC does not verify under the demo BDK (for whatever KSN
it carries) is answered A0 and changes nothing. Every
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
import socket
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import cast

from micropos import iso8583
from micropos import mac as _mac
from micropos.acquirer.commit import GroupCommit, on_thread
from micropos.acquirer.faults import GARBAGE, Fault, FaultKind, FaultPlan
from micropos.acquirer.ledger import Checkpointer, Ledger, fingerprint
from micropos.acquirer.rules import (
    DEFAULT_REFUND_WINDOW_DAYS,
    DEMO_MERCHANT_ID,
    DEMO_TERMINAL_ID,
    MACED_MTIS,
    Acquirer,
    Code,
)
from micropos.acquirer.workers import WriterLock

log = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT_S = 30.0
DEFAULT_MAX_CONNECTIONS = 200  # well under a 256-descriptor limit: accept() always finds one
RECEIVED_KEPT = 1000
QUIET_S = 0.2  # commits paused this long: time to checkpoint
CHECKPOINT_AT_MOST_S = 5.0  # a load that never pauses: checkpoint all the same (the log ~150 MB at full load)
_LIMIT_LOG_EVERY_S = 60.0


@dataclass
class _Answer:
    """What to send back for one request: bytes, or nothing."""

    payload: bytes | None
    close: bool = False
    delay: float = 0.0


class _Connection(asyncio.Protocol):
    """One client's connection: frames in, answers out in the order they were asked.

    A protocol rather than a stream and a task: at thousands of requests a
    second, a coroutine and a timeout task each request cost more than the
    rules themselves. One request is answered at a time; what arrives
    meanwhile stays in the buffer, and past ``_BUFFERED`` bytes the
    connection stops reading until it has caught up: a client that sends
    without reading its answers slows down and costs no more memory.
    """

    def __init__(self, server: AcquirerServer) -> None:
        self._server = server
        self._buffer = bytearray()
        self._busy = False  # a request is being answered (or its answer delayed)
        self._blocked = False  # the client is not reading its answers: wait before answering more
        self._paused = False  # reading stopped: the buffer is full
        self._ended = False  # the client sent its last byte
        self._closed = False
        self.transport: asyncio.Transport | None = None
        self.peer: object = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream transport (uvloop's is not a subclass)
        self.peer = self.transport.get_extra_info("peername")
        self._server._opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._server._closed(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > _BUFFERED and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._next()

    def eof_received(self) -> bool:
        self._ended = True
        self._next()
        return True  # the transport stays open for the answers still owed; ``_next`` closes it

    def pause_writing(self) -> None:
        self._blocked = True

    def resume_writing(self) -> None:
        self._blocked = False
        self._next()

    def close(self, why: str | None = None) -> None:
        if why is not None:
            log.info("closing %s: %s", self.peer, why)
        self._closed = True
        if self.transport is not None:
            self.transport.close()

    def _next(self) -> None:
        """Answers the next whole frame in the buffer, or waits for one."""
        if self._busy or self._blocked or self._closed:
            return
        buffer = self._buffer
        try:
            length = iso8583.check_length(int.from_bytes(buffer[:2], "big")) if len(buffer) >= 2 else 0
        except iso8583.FramingError as exc:
            self.close(str(exc))
            return
        if not length or len(buffer) < 2 + length:
            if self._ended:
                self.close("stream ended inside a frame" if buffer else None)
                return
            if self._paused and self.transport is not None:
                self._paused = False
                self.transport.resume_reading()
            self._server._waiting(self)
            return
        raw = bytes(buffer[2:2 + length])
        del buffer[:2 + length]
        self._busy = True
        self._server._not_waiting(self)
        self._server.take(raw, self._answered)

    def _answered(self, answer: _Answer) -> None:
        if self._closed:
            return
        if answer.delay:
            asyncio.get_running_loop().call_later(answer.delay, self._send, answer)
        else:
            self._send(answer)

    def _send(self, answer: _Answer) -> None:
        if self._closed or self.transport is None:
            return
        if answer.payload is not None:
            self.transport.write(iso8583.frame(answer.payload))
        if answer.close:
            self.close()
            return
        self._busy = False
        self._next()


_BUFFERED = 4 * (2 + iso8583.MAX_MESSAGE)  # bytes a connection holds unanswered before it stops reading


class AcquirerServer:
    """An asyncio TCP server in front of an :class:`Acquirer`.

    Args:
        acquirer: the rules and their ledger.
        faults: the fault plan consulted for every request.
        bdk: the base derivation key MACs are checked under.

    Attributes:
        received: the latest messages received (at most ``RECEIVED_KEPT``),
            unframed, oldest first (tests decode what the terminal sent from here).
        idle_timeout: seconds a connection may wait for (or inside) a frame.
        max_connections: open connections at most; the longest-idle one makes room.
    """

    def __init__(self, acquirer: Acquirer, faults: FaultPlan | None = None, bdk: bytes = _mac.DEMO_BDK, *,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, writer_lock: WriterLock | None = None,
                 checkpoints: bool = True) -> None:
        if idle_timeout <= 0 or max_connections < 1:
            raise ValueError("the idle timeout and the connection limit must be positive")
        self.acquirer = acquirer
        self.faults = faults or FaultPlan()
        self.bdk = bdk
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.checkpoints = checkpoints  # this process checkpoints the ledger (one worker of several does)
        self.received: deque[bytes] = deque(maxlen=RECEIVED_KEPT)
        self._commit = GroupCommit(acquirer.ledger, writer_lock)
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._sweeping: asyncio.Task[None] | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        self._connections: set[_Connection] = set()
        self._adopting = 0  # accepted sockets whose connection is being set up
        self._idle_since: dict[_Connection, float] = {}  # open connections waiting for a frame, oldest first
        self._limit_logged = -_LIMIT_LOG_EVERY_S

    @property
    def address(self) -> tuple[str, int]:
        if self._listener is None:
            raise RuntimeError("the acquirer is not listening")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    async def start(self, host: str, port: int, listener: socket.socket | None = None) -> tuple[str, int]:
        """Starts listening (on ``listener`` when given, bound already); returns the address (useful with port 0)."""
        if listener is None:
            listener = socket.create_server((host, port), backlog=128)
        listener.setblocking(False)
        self._listener = listener
        self._accepting = asyncio.create_task(self._accept_loop(listener))
        self._sweeping = asyncio.create_task(self._sweep())
        ledger = self.acquirer.ledger
        if ledger.path != ":memory:":
            ledger.checkpoint_apart()  # in every worker; one of them checkpoints for all
            if self.checkpoints:
                self._checkpointing = asyncio.create_task(self._checkpoint(Checkpointer(ledger.path)))
        return self.address

    async def serve_forever(self) -> None:
        if self._accepting is None:
            raise RuntimeError("start() the acquirer first")
        await self._accepting

    async def close(self) -> None:
        """Stops listening and ends every open connection."""
        for task in (self._accepting, self._sweeping, self._checkpointing):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._commit.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.abort()
        await asyncio.sleep(0)  # the transports tell their connections they are lost
        if self._listener is not None:
            self._listener.close()

    async def _accept_loop(self, listener: socket.socket) -> None:
        """Accepts connections while there is room; at the limit, one at a time, making room first.

        So an accept always finds a descriptor (asyncio's own server accepts
        a burst before any handler runs, and a crowd then exhausts the
        descriptors: a traceback a connection), and a crowd arriving at once
        below the limit is taken in one turn of the loop: a connection set up
        late would make its first request wait for the others'.
        """
        loop = asyncio.get_running_loop()
        while True:
            self._make_room()
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError as exc:  # out of descriptors after all (another user of them): wait, then retry
                self._note_limit(f"cannot accept a connection ({exc.strerror})")
                await asyncio.sleep(0.1)
                continue
            self._adopt(conn)
            while len(self._connections) + self._adopting < self.max_connections:
                try:
                    conn, _ = listener.accept()
                except OSError:  # none waiting (or no descriptor left: the accept above will say so)
                    break
                self._adopt(conn)

    def _adopt(self, conn: socket.socket) -> None:
        """Serves an accepted socket (its protocol set up in the next turn of the loop)."""
        conn.setblocking(False)
        self._adopting += 1
        setup = asyncio.ensure_future(asyncio.get_running_loop().connect_accepted_socket(
            lambda: _Connection(self), sock=conn))

        def adopted(task: asyncio.Future[tuple[asyncio.Transport, _Connection]]) -> None:
            self._adopting -= 1
            if task.cancelled():
                conn.close()
            elif (exc := task.exception()) is not None:  # the client left already
                log.info("a connection ended before it was set up: %s", exc)
                conn.close()

        setup.add_done_callback(adopted)

    async def _sweep(self) -> None:
        """Closes the connections idle (or stuck inside a frame) for longer than ``idle_timeout``."""
        while True:
            await asyncio.sleep(min(1.0, self.idle_timeout / 4))
            expired = time.monotonic() - self.idle_timeout
            for connection, since in list(self._idle_since.items()):
                if since > expired:
                    break  # oldest first: the rest waited less
                connection.close(f"idle for {self.idle_timeout:g} s")
                self._idle_since.pop(connection, None)

    @staticmethod
    async def _checkpoint(checkpointer: Checkpointer) -> None:
        """Checkpoints the ledger on a thread once its commits pause, and at least every ``CHECKPOINT_AT_MOST_S``.

        A checkpoint syncs the database file, and the commits' syncs of
        the log wait behind it (one file system journal): done while
        requests flow it holds their answers for 10-20 ms. So it waits for
        a pause of ``QUIET_S`` in the commits (the data version of the
        database unchanged, whichever worker wrote), or for the log to have
        gone unchecked for too long under a load that never pauses.
        """
        try:
            last = now = time.monotonic()
            changed_at: float | None = None
            while True:
                await asyncio.sleep(QUIET_S / 4)
                now = time.monotonic()
                if checkpointer.changed():
                    changed_at = now
                if changed_at is None or (now - changed_at < QUIET_S and now - last < CHECKPOINT_AT_MOST_S):
                    continue
                try:
                    await on_thread(checkpointer.run)
                    changed_at, last = None, now
                except sqlite3.Error as exc:  # busy or locked: the next try catches up
                    log.info("checkpoint skipped: %s", exc)
        finally:
            checkpointer.close()

    # -- the connections' bookkeeping ----------------------------------------------

    def _opened(self, connection: _Connection) -> None:
        self._connections.add(connection)
        self._waiting(connection)

    def _closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        self._idle_since.pop(connection, None)

    def _waiting(self, connection: _Connection) -> None:
        """A connection starts waiting for a frame: it joins the idle ones, newest last."""
        self._idle_since.pop(connection, None)
        self._idle_since[connection] = time.monotonic()

    def _not_waiting(self, connection: _Connection) -> None:
        self._idle_since.pop(connection, None)

    def _make_room(self) -> None:
        """At the connection limit, closes the longest-idle connection."""
        if len(self._connections) + self._adopting < self.max_connections:
            return
        self._note_limit(f"{len(self._connections)} connections, the limit: closing the longest-idle ones to make room")
        if self._idle_since:
            oldest = next(iter(self._idle_since))
            self._idle_since.pop(oldest)
            if oldest.transport is not None:
                oldest.transport.abort()

    def _note_limit(self, message: str) -> None:
        """One log line a minute at most, however many connections press against the limit."""
        now = time.monotonic()
        if now - self._limit_logged >= _LIMIT_LOG_EVERY_S:
            self._limit_logged = now
            log.warning(message)

    # -- answers -------------------------------------------------------------------

    def take(self, raw: bytes, reply: Callable[[_Answer], None]) -> None:
        """Decides the reply to one framed message; ``reply`` gets it once what it changed is on disk."""
        self.received.append(raw)
        try:
            request = iso8583.decode(raw)
        except ValueError as exc:
            log.info("closing on an unparsable message: %s", exc)
            reply(_Answer(None, close=True))
            return
        fault = self.faults.take(request)
        if fault is not None and fault.kind is FaultKind.DROP:
            reply(_Answer(None))
            return
        key = self._mac_key(request) if request["t"] in MACED_MTIS else None  # derived once: checks, then signs

        def decided(response: dict[str, str] | None, error: BaseException | None) -> None:
            if error is not None:  # a bug or a broken ledger must still get the terminal an answer
                log.error("answering %s failed", request.get("t"), exc_info=error)
                self._commit.submit(lambda: self.acquirer.reject(request, Code.SYSTEM_ERROR), last_resort)
                return
            assert response is not None
            if fault is not None and fault.kind is FaultKind.NO_CODE:
                response = {k: v for k, v in response.items() if k != "39"}
            reply(self._misbehave(self._sign(response, key), fault))

        def last_resort(response: dict[str, str] | None, error: BaseException | None) -> None:
            if error is not None or response is None:
                log.error("could not even answer 96", exc_info=error)
                reply(_Answer(None, close=True))
                return
            reply(self._misbehave(self._sign(response, key), fault))

        self._commit.submit(self._decision(raw, request, fault, key), decided)

    def _decision(self, raw: bytes, request: dict[str, str], fault: Fault | None,
                  key: bytes | None) -> Callable[[], dict[str, str]]:
        """The ledger work that decides the answer (run in a batch); the MAC is checked before, out of it."""
        if request["t"] in MACED_MTIS:
            if key is None or not iso8583.verify_mac(raw, key):
                return lambda: self.acquirer.reject(request, Code.MAC_ERROR)
        if fault is not None and fault.kind is FaultKind.CODE:
            code = fault.code
            assert code is not None
            return lambda: self.acquirer.reject(request, code)
        made = fingerprint(request)  # while another worker may hold the ledger: not in the turn at it
        return lambda: self.acquirer.handle(request, made)

    def _mac_key(self, request: dict[str, str]) -> bytes | None:
        try:
            return _mac.mac_working_key(self.bdk, iso8583.ksn_of(request))
        except ValueError:  # ProfileError or DukptError: no usable KSN
            return None

    @staticmethod
    def _sign(response: dict[str, str], key: bytes | None) -> bytes:
        """Encodes a response, MACed with the request's working key when it had a usable KSN."""
        if key is None:
            return iso8583.encode(response)
        return iso8583.apply_mac(response, key)

    @staticmethod
    def _misbehave(payload: bytes, fault: Fault | None) -> _Answer:
        if fault is None or fault.kind in (FaultKind.CODE, FaultKind.NO_CODE):
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
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    listener: socket.socket | None = None,
    writer_lock: WriterLock | None = None,
    checkpoints: bool = True,
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
        idle_timeout: seconds before an idle or half-sent connection is closed.
        max_connections: open connections at most (the longest-idle one makes room).
        listener: a socket bound already (one worker's, ``micropos.acquirer.workers``) instead of host and port.
        writer_lock: taken around each transaction when other workers share the ledger.
        checkpoints: whether this process checkpoints the ledger (the first worker does, for all).
    """
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan()
    if not isinstance(faults, FaultPlan):
        for item in faults:
            plan.add(item)
    acquirer = open_acquirer(db, seed, refund_window_days=refund_window_days, clock=clock)
    server = AcquirerServer(acquirer, plan, bdk, idle_timeout=idle_timeout, max_connections=max_connections,
                            writer_lock=writer_lock, checkpoints=checkpoints)
    try:
        await server.start(host, port, listener)
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
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
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
                    bdk=bdk, on_ready=on_ready, idle_timeout=idle_timeout, max_connections=max_connections)

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
