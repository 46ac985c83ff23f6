"""Several acquirer processes on one port and one ledger: both cores at work.

Each worker is a whole acquirer (its own event loop, its own connection to
the ledger) with its own listening socket on the shared port
(``SO_REUSEPORT``: the kernel spreads new connections over them), so the
reading, decoding, MAC checks and signing of one worker run beside the
other's. What cannot run side by side is the ledger's transaction: the
workers take turns at it under :class:`WriterLock`, a file lock whose
waiter wakes the moment it is free (SQLite's own busy wait sleeps a
millisecond or more between tries, which is longer than a batch takes).

The first process is the one the user started; it forks the others before
any event loop or ledger exists, sends them SIGTERM when it is told to
stop, and a worker whose first process is gone (killed with ``kill -9``)
stops within a second by itself (``orphaned``).
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

_RETRY_S = 0.05


class WriterLock:
    """Turns at the ledger for the workers: an exclusive lock on ``<ledger>.writer`` and a pipe to wake waiters.

    Taken without blocking when it is free; otherwise the worker's event
    loop goes on with its connections and comes back when a worker that
    let go of the lock writes a byte to the shared pipe (it is tried again:
    another waiter may have been quicker). No thread waits for it: a thread
    woken while the loop holds the interpreter lock would keep the ledger
    locked until the loop let go, up to 5 ms. Should a worker die holding
    it, the system releases the file lock.

    Make it before forking: the workers share its pipe.
    """

    def __init__(self, ledger: str | Path) -> None:
        self.path = Path(f"{ledger}.writer")
        self._fd = -1
        self._owner = 0  # the process that opened ``_fd``
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def try_acquire(self) -> bool:
        if self._owner != os.getpid():  # a file lock is shared across a fork: each worker opens the file itself
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._owner = os.getpid()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    async def acquire(self) -> None:
        """Returns holding the lock; waits (in the event loop) while another worker holds it."""
        while not self.try_acquire():
            loop = asyncio.get_running_loop()
            woken: asyncio.Future[None] = loop.create_future()
            loop.add_reader(self._wake_read, self._woken, woken)
            # tried again after a while even unwoken: a worker of an earlier run, orphaned and about
            # to stop, may hold the lock, and it writes to its own pipe, not to this one
            retry = loop.call_later(_RETRY_S, self._woken, woken)
            try:
                await woken
            finally:
                retry.cancel()
                loop.remove_reader(self._wake_read)

    def _woken(self, woken: asyncio.Future[None]) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self._wake_read, 4096)  # every byte written so far: one retry does for all of them
        if not woken.done():
            woken.set_result(None)

    def release(self) -> None:
        """Lets the next worker in, waking any that wait."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        with contextlib.suppress(BlockingIOError):  # the pipe full of wake-ups already: one more changes nothing
            os.write(self._wake_write, b"!")

    def close(self) -> None:
        if self._owner == os.getpid():
            os.close(self._fd)
        os.close(self._wake_read)
        os.close(self._wake_write)


def listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one address; port 0 picks a free port for all of them.

    Raises:
        OSError: the address cannot be bound.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_server((host, port), backlog=128, reuse_port=count > 1)
            sockets.append(sock)
            port = sock.getsockname()[1]  # the next ones bind the port the first one got
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def fork_workers(sockets: list[socket.socket], work: Callable[[socket.socket], None]) -> list[int]:
    """Forks a worker for each socket but the first, which stays with the caller; the workers' pids.

    A worker runs ``work(its socket)`` and exits. Call this before any event
    loop or ledger connection exists: neither survives a fork.
    """
    pids = []
    for sock in sockets[1:]:
        pid = os.fork()
        if pid == 0:  # the worker
            status = 0
            try:
                for other in sockets:
                    if other is not sock:
                        other.close()
                work(sock)
            except KeyboardInterrupt:
                pass
            except BaseException:  # noqa: BLE001 - reported, then the worker ends with an error status
                import traceback

                traceback.print_exc()
                status = 1
            finally:
                os._exit(status)
        pids.append(pid)
        sock.close()
    return pids


def stop_workers(pids: list[int]) -> list[int]:
    """Sends each worker SIGTERM and waits for it; the exit statuses (``os.waitstatus_to_exitcode``)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    statuses = []
    for pid in pids:
        try:
            statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        except ChildProcessError:
            continue
    return statuses


def orphaned(parent: int) -> bool:
    """Whether the process that forked this worker is gone."""
    return os.getppid() != parent
