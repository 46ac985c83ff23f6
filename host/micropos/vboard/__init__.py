"""A virtual board: the unix port behind a pseudo-terminal, reachable as a board's serial port.

The MicroPython process runs on pty A (its controlling terminal, so Ctrl-C
from the host interrupts it as on a board); clients open the slave of pty B.
A relay thread copies bytes between the two masters.  Two ptys are needed
because a client must open a path, and a process's own pty cannot be shared
without a second opener confusing it.  We keep pty B's slave open ourselves
so a client closing it never makes the relay see end-of-file.
"""
from __future__ import annotations

import os
import pty
import select
import signal
import termios
import threading
import tty
from pathlib import Path

from micropos import paths
from micropos.boards import EMULATOR
from micropos.errors import MicroposError

ROM = Path(__file__).with_name("rom.py")
DEFAULT_FS = paths.VAR / "vboard" / "fs"


class VirtualBoardError(MicroposError, RuntimeError):
    pass


class VirtualBoard:
    """Starts the unix port behind a pty; ``port`` is the path clients open."""

    def __init__(self, fs_dir: Path = DEFAULT_FS, heap: str = "2m") -> None:
        self.fs_dir = Path(fs_dir)
        self.heap = heap
        self.port: str | None = None
        self._pid: int | None = None
        self._board_master: int | None = None
        self._client_master: int | None = None
        self._client_slave: int | None = None
        self._stop = threading.Event()
        self._relay: threading.Thread | None = None

    def start(self) -> str:
        self.fs_dir.mkdir(parents=True, exist_ok=True)
        micropython = str(paths.micropython())
        pid, master = pty.fork()
        if pid == 0:  # the board
            try:
                _quiet_terminal(0)
                os.chdir(self.fs_dir)
                os.execve(micropython, ["micropython", "-X", f"heapsize={self.heap}", "-i", str(ROM)],
                          {**os.environ, **EMULATOR.env()})
            finally:
                os._exit(127)
        self._pid, self._board_master = pid, master
        self._client_master, self._client_slave = pty.openpty()
        tty.setraw(self._client_slave)
        tty.setraw(self._client_master)
        self.port = os.ttyname(self._client_slave)
        self._relay = threading.Thread(target=self._pump, name="vboard-relay", daemon=True)
        self._relay.start()
        return self.port

    def _pump(self) -> None:
        board, client = self._board_master, self._client_master
        assert board is not None and client is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([board, client], [], [], 0.2)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:  # the board exited
                    self._stop.set()
                    return
                os.write(client if fd == board else board, data)

    def alive(self) -> bool:
        if self._pid is None:
            return False
        pid, _ = os.waitpid(self._pid, os.WNOHANG)
        return pid == 0

    def stop(self) -> None:
        self._stop.set()
        if self._relay is not None:
            self._relay.join(timeout=2)
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._pid = None
        for fd in (self._board_master, self._client_master, self._client_slave):
            if fd is not None:
                os.close(fd)
        self._board_master = self._client_master = self._client_slave = None

    def __enter__(self) -> VirtualBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _quiet_terminal(fd: int) -> None:
    """A board's UART: no echo, no newline translation, but Ctrl-C still interrupts."""
    attrs = termios.tcgetattr(fd)
    attrs[1] &= ~termios.OPOST          # oflag: send bytes as they are
    attrs[3] &= ~(termios.ECHO | termios.ICANON)  # lflag: keep ISIG for Ctrl-C
    attrs[0] &= ~(termios.ICRNL | termios.IXON)   # iflag: CR stays CR, no flow control
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
