"""Byte pipes to a running terminal: an emulator process, or a board's serial port.

Both start the same firmware entry, ``app.run(board, link=True)``: the
emulator as a unix-port process with pipes, its firmware in a ROMFS image
mapped outside the heap as a board's flash is; a board (or virtual board) by
interrupting whatever runs, entering the raw REPL and executing it there, as
mpremote does, so the link then runs over the REPL's stdin and stdout.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path

from micropos import build, paths, romfs
from micropos.boards import EMULATOR
from micropos.errors import LinkError, SetupError
from micropos.romport import MOUNT_ROM

START_APP = "import board, app\napp.run(board, link=True)\n"
# The firmware's heap in the emulator: the MicroPython heap of an ESP32 without
# PSRAM, in which every test passes.  A refund needs less (60 KB, under the
# 64 KB goal): see the README's figures and ``make bench``.
DEFAULT_HEAP = "112k"


class Transport(ABC):
    """A byte stream to one terminal."""

    name: str

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def read(self, timeout: float) -> bytes:
        """Bytes available within ``timeout`` seconds; b'' if none; raises LinkError at end of stream."""

    @abstractmethod
    def close(self) -> None: ...


class EmulatorTransport(Transport):
    """The firmware for the emulator board, run by the unix port with pipes.

    ``bytecode="rom"`` (the default): the bytecode is a ROMFS image mapped
    into the process (``micropos.romport``), outside the heap, as a board
    runs frozen or ROMFS modules from flash: the heap holds what the
    firmware allocates.  ``bytecode="files"``: the ``.mpy`` files are
    imported from a folder, as a stock MicroPython imports them from the
    filesystem ``make deploy`` leaves, loading their bytecode into the heap.
    """

    def __init__(self, heap: str = DEFAULT_HEAP, env: dict[str, str] | None = None,
                 stage: Path | None = None, bytecode: str = "rom") -> None:
        self.name = "emulator"
        proc_env = dict(os.environ)
        proc_env.update(EMULATOR.env())
        proc_env.update(env or {})
        if bytecode == "files":
            self.stage = stage or paths.VAR / "build" / "emulator-files"
            build.compile_tree("emulator", self.stage / "mpy")  # a stage of its own: no ROMFS image to race
            proc_env["MICROPYPATH"] = os.pathsep.join(["", ".frozen"])  # the current folder: the .mpy files
            command = [str(paths.micropython()), "-X", f"heapsize={heap}", "-c", START_APP]
            cwd = self.stage / "mpy"
        else:
            self.stage = stage or paths.VAR / "build" / "emulator-romfs"
            image = romfs.build_image("emulator", self.stage)
            proc_env["MICROPYPATH"] = os.pathsep.join(["/rom", ".frozen"])
            command = [sys.executable, "-m", "micropos.romport", str(image), "-X", f"heapsize={heap}", "-c",
                       MOUNT_ROM + START_APP]
            cwd = self.stage
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=proc_env, cwd=cwd)
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError as exc:
            raise LinkError(f"the emulator has exited (code {self.proc.poll()})") from exc

    def read(self, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return b""
        data = os.read(fd, 65536)
        if not data:
            raise LinkError(f"the emulator has exited (code {self.proc.wait()})")
        return data

    def power_cut(self) -> None:
        """Pulls the plug: the process dies at once, mid-whatever it was doing."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def close(self) -> None:
        self.power_cut()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class SerialTransport(Transport):
    """A board, or a virtual board's pty, at ``port``: the app is started from the raw REPL."""

    def __init__(self, port: str, baudrate: int = 115200) -> None:
        import serial

        self.name = port
        self._leftover = b""
        try:
            self.serial = serial.Serial(port, baudrate=baudrate, timeout=0)
        except serial.SerialException as exc:
            raise SetupError(f"cannot open {port}: {exc}") from exc
        self._start()

    def _start(self) -> None:
        self.serial.write(b"\r\x03\x03")  # stop whatever runs (main.py's app, say)
        time.sleep(0.2)
        self.serial.reset_input_buffer()
        self.serial.write(b"\r\x01")
        self._read_until(b"raw REPL; CTRL-B to exit\r\n>", 5, "enter the raw REPL")
        self.serial.write(START_APP.encode() + b"\x04")
        self._read_until(b"OK", 5, "start the app")

    def _read_until(self, marker: bytes, timeout: float, doing: str) -> None:
        """Reads up to ``marker``; what follows it is kept for the next ``read``."""
        data = b""
        deadline = time.monotonic() + timeout
        while marker not in data:
            if time.monotonic() > deadline:
                raise LinkError(f"{self.name}: could not {doing}; the board said {data[-200:]!r}")
            data += self.read(0.05)
        self._leftover = data.split(marker, 1)[1]

    def write(self, data: bytes) -> None:
        self.serial.write(data)

    def read(self, timeout: float) -> bytes:
        if self._leftover:
            data, self._leftover = self._leftover, b""
            return data
        ready, _, _ = select.select([self.serial.fileno()], [], [], timeout)
        if not ready:
            return b""
        return self.serial.read(self.serial.in_waiting or 1)

    def close(self) -> None:
        try:
            # Interrupting the app while it frees a flow's modules can crash the unix port ("FATAL:
            # uncaught NLR"), so wait until the board has been quiet a moment: back at idle, at rest.
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and self.read(0.3):
                pass
            self.serial.write(b"\x03")      # KeyboardInterrupt ends the app
            time.sleep(0.1)
            self.serial.write(b"\x02")      # back to the friendly REPL
            self.serial.flush()
        finally:
            self.serial.close()
