"""A terminal seen from the host: press keys, read screens, take screenshots.

It speaks the firmware's host link (firmware/hostlink.py) over a Transport.
A reader thread splits the stream into lines, keeps every screen the
terminal showed, and writes the stream to a device log, card data masked
(``carddata.DeviceLog``); every card the tests swipe or key in is noted for
the leak check (``micropos.hil.leaks``).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from micropos import tables
from micropos.carddata import DeviceLog, mask
from micropos.errors import ExpectTimeout, LinkError
from micropos.hil.leaks import note_card, note_keys
from micropos.transport import Transport

Screen = tuple[str, ...]

# The logical keys of the keypad, as the firmware names them (``NAMES`` in firmware/domain/keys.py).
KEY_NAMES: tuple[str, ...] = tables.constant(tables.KEYS_SOURCE, "NAMES")


class Terminal:
    def __init__(self, transport: Transport, log_path: Path | None = None,
                 on_screen: Callable[[Screen], None] | None = None) -> None:
        self.transport = transport
        self.log_path = log_path
        self._log: DeviceLog | None = DeviceLog(str(log_path)) if log_path else None
        self.on_screen = on_screen
        self.screens: list[Screen] = []
        self.errors: list[str] = []
        self.clipped: list[tuple[Screen, str]] = []  # (screen, its row that did not fit the panel)
        self.board_name: str | None = None
        self._cursor = 0
        self._replies: dict[str, str] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._failure: LinkError | None = None
        self._reader = threading.Thread(target=self._read_loop, name=f"terminal-{transport.name}", daemon=True)
        self._reader.start()

    # -- what a person does -------------------------------------------------

    def press(self, *names: str) -> None:
        """Presses logical keys in order, e.g. ``press("FUNC", "3")`` or ``press(*"123456", "ENTER")``."""
        unknown = [name for name in names if name not in KEY_NAMES]
        if unknown:
            raise LinkError(f"unknown key {unknown[0]!r}; keys are {' '.join(KEY_NAMES)}")
        if names:
            note_keys(names)
            with self._cond:  # what was shown before this press cannot answer a later expect
                self._cursor = max(len(self.screens) - 1, 0)
            self._send("key " + " ".join(names))

    def settle(self, timeout: float = 10.0) -> Screen:
        """Waits until the terminal has handled every key sent so far; returns the screen."""
        self._request("sync", "ok", timeout)
        return self.screen

    def swipe(self, pan: str, expiry: str) -> None:
        """Swipes (or taps) a card: PAN digits and expiry YYMM."""
        if not (pan.isdigit() and 12 <= len(pan) <= 19 and expiry.isdigit() and len(expiry) == 4):
            raise LinkError("a card is PAN=YYMM: a PAN of 12 to 19 digits and a 4-digit expiry")
        note_card(pan, expiry)
        self._send(f"card {pan}={expiry}")

    def power_cut(self) -> None:
        """Cuts the power at once (emulator only); the terminal is gone afterwards."""
        cut = getattr(self.transport, "power_cut", None)
        if cut is None:
            raise LinkError(f"{self.transport.name}: a power cut needs the emulator")
        cut()
        self._close_link()

    def expect(self, text: str | tuple[str, ...], timeout: float = 10.0) -> Screen:
        """Waits until a screen shown since the last match contains ``text``; returns that screen.

        Text may run over a row break: "host timeout, reversal pending" matches
        the rows "host timeout," and "reversal pending".  A tuple of texts
        waits for any one of them.
        """
        deadline = time.monotonic() + timeout
        texts = (text,) if isinstance(text, str) else text
        with self._cond:
            while True:
                for index in range(self._cursor, len(self.screens)):
                    if any(_shows(self.screens[index], one) for one in texts):
                        self._cursor = index
                        return self.screens[index]
                self._raise_if_failed()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ExpectTimeout(" or ".join(texts), timeout, self.screen,
                                        str(self.log_path) if self.log_path else None)
                self._cond.wait(left)

    @property
    def screen(self) -> Screen:
        with self._cond:
            return self.screens[-1] if self.screens else ()

    def ready(self, timeout: float = 15.0) -> None:
        """Waits for the firmware to report itself and show its first screen."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while "ready" not in self._replies:
                self._raise_if_failed()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LinkError(f"the terminal did not start within {timeout:g} s"
                                    + (f"; device log: {self.log_path}" if self.log_path else ""))
                self._cond.wait(left)
        self.expect("", timeout)

    def pixels(self, timeout: float = 5.0) -> bytes:
        """The panel's 1024 bytes (MONO_VLSB, page by page)."""
        return bytes.fromhex(self._request("shot", "fb", timeout))

    def screenshot(self, path: Path, scale: int = 4) -> Path:
        from micropos.screenshot import save_png

        return save_png(self.pixels(), Path(path), scale=scale)

    def heap(self, timeout: float = 5.0) -> tuple[int, int]:
        """(free, allocated) bytes of the firmware's heap after a collection."""
        free, alloc = self._request("heap", "heap", timeout).split()
        return int(free), int(alloc)

    def hold_heap(self, leave: int, timeout: float = 10.0) -> tuple[int, int]:
        """Holds the firmware's heap until at most ``leave`` bytes are free (0: lets it all go); (free, allocated)."""
        free, alloc = self._request(f"heap {leave}", "heap", timeout).split()
        return int(free), int(alloc)

    def modules(self, timeout: float = 5.0) -> list[str]:
        """The modules loaded in the firmware now."""
        return self._request("modules", "modules", timeout).split()

    def flash_counters(self, timeout: float = 5.0) -> dict[str, int]:
        """The emulator flash chip's counters since power-on: reads, programs, program_bytes, erases."""
        reply = self._request("flash", "flash", timeout)
        return {key: int(value) for key, value in (item.split("=") for item in reply.split())}

    def set(self, name: str, value: object, timeout: float = 5.0) -> None:
        """Changes a setting for this run (e.g. ``set("idle_timeout_s", 2)``)."""
        self._request(f"set {name} {value}", "ok", timeout)

    def close(self) -> None:
        """Lets the terminal finish the keys it was sent, then closes the link.

        Stopping a board's app (Ctrl-C) while it is still handling a key can
        interrupt it in the middle of freeing memory, which the MicroPython
        unix port does not survive ("FATAL: uncaught NLR"): so settle first.
        """
        if not self._closed and self._failure is None:
            try:
                self._request("sync", "ok", 2.0)
            except LinkError:
                pass
        self._close_link()

    def _close_link(self) -> None:
        self._closed = True
        self.transport.close()
        self._reader.join(timeout=2)
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the link -------------------------------------------------------------

    def _send(self, line: str) -> None:
        self._raise_if_failed()
        data = (line + "\n").encode()
        if self._log:
            self._log.write_lines(b">> " + data)
        self.transport.write(data)

    def _request(self, line: str, kind: str, timeout: float) -> str:
        """Sends a command and waits for its ``~kind`` reply; an ``~err`` in between is its answer."""
        with self._cond:
            self._replies.pop(kind, None)
            errors_before = len(self.errors)
        self._send(line)
        deadline = time.monotonic() + timeout
        with self._cond:
            while kind not in self._replies:
                self._raise_if_failed()
                if len(self.errors) > errors_before:
                    raise LinkError(f"the terminal refused '{line}': {self.errors[errors_before]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LinkError(f"no '{kind}' from the terminal within {timeout:g} s"
                                    + (f"; device log: {self.log_path}" if self.log_path else ""))
                self._cond.wait(left)
            return self._replies.pop(kind)

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _read_loop(self) -> None:
        pending = b""
        while not self._closed:
            try:
                data = self.transport.read(0.2)
            except LinkError as exc:
                with self._cond:
                    self._failure = self._with_last_words(exc) if not self._closed else None
                    self._cond.notify_all()
                return
            except (OSError, ValueError):
                return
            if not data:
                continue
            if self._log:
                self._log.write_lines(data)
            pending += data
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                self._dispatch(raw.rstrip(b"\r").decode("utf-8", "replace"))

    def _with_last_words(self, exc: LinkError) -> LinkError:
        """The link's failure, with the last error the firmware printed (a MemoryError, say), which is why."""
        said = [line for line in self.errors if not line.startswith("Traceback")]
        if not said:
            return exc
        return LinkError(f"{exc}; the firmware said: {mask(said[-1].encode()).decode()}")

    def alive(self, timeout: float = 10.0) -> None:
        """Raises LinkError (saying why) unless the firmware still answers."""
        self._request("sync", "ok", timeout)

    def _dispatch(self, line: str) -> None:
        if not line.startswith("~"):
            if "Traceback" in line or "Error" in line:
                self.errors.append(line)
            return
        kind, _, rest = line[1:].partition(" ")
        with self._cond:
            if kind == "scr":
                screen = tuple(rest.split("\t"))
                self.screens.append(screen)
                if self.on_screen:
                    self.on_screen(screen)
            elif kind == "err":
                self.errors.append(rest)
            elif kind == "clip":
                self.clipped.append((self.screens[-1] if self.screens else (), rest))
            elif kind == "ready":
                self.board_name = rest
                self._replies["ready"] = rest
            else:
                self._replies[kind] = rest
            self._cond.notify_all()


def _shows(rows: Screen, text: str) -> bool:
    """Whether ``text`` is on the screen, within a row or across consecutive rows."""
    return text in "\n".join(rows) or text in " ".join(row.strip() for row in rows)
