"""The interactive emulator: the 128x64 panel drawn in this terminal, the keyboard as keypad.

Each character cell shows two pixel rows with half blocks, so the panel is
128 columns by 32 lines.  The panel is redrawn from the firmware's own
pixels (``shot``) after every new screen.
"""
from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from pathlib import Path

from micropos.screenshot import HEIGHT, WIDTH, to_rows
from micropos.terminal import Terminal

# keyboard byte sequence -> logical key
KEYMAP: dict[bytes, str] = {
    **{str(d).encode(): str(d) for d in range(10)},
    b"\r": "ENTER", b"\n": "ENTER",
    b"\x1b": "CANCEL", b"x": "CANCEL",
    b"\x7f": "CLEAR", b"\x08": "CLEAR",
    b"f": "FUNC", b"\t": "FUNC",
    b"\x1b[A": "UP", b"\x1b[B": "DOWN", b"u": "UP", b"d": "DOWN",
}

# (keyboard, what it does on the keypad, 中文): the legend on screen and `micropos emulator --help`
KEYS = (
    ("0-9", "digits", "数字"),
    ("Enter", "ENTER", "确认"),
    ("Esc or x", "CANCEL", "取消"),
    ("Backspace", "CLEAR", "清除"),
    ("f or Tab", "FUNC", "功能"),
    ("arrows or u/d", "UP / DOWN", "上 / 下"),
    ("c", "swipe a card: type PAN=YYMM", "刷卡"),
    ("s", "screenshot to var/screenshots/", "截屏"),
    ("q", "quit", "退出"),
)

LEGEND = "keys: " + " | ".join(f"{keyboard}={key}" for keyboard, key, _ in KEYS[:6]) + " | c=card | s=shot | q=quit"


def key_table() -> str:
    """The keys of the interactive emulator, one a line, in both languages."""
    width = max(len(keyboard) for keyboard, _, _ in KEYS)
    return "\n".join(f"  {keyboard:<{width}}  {key} ({zh})" for keyboard, key, zh in KEYS)


def render_panel(pixels: bytes) -> str:
    rows = to_rows(pixels)
    lines = []
    for y in range(0, HEIGHT, 2):
        top, bottom = rows[y], rows[y + 1]
        lines.append("".join(" ▀▄█"[t | (b << 1)] for t, b in zip(top, bottom, strict=False)))
    border = "+" + "-" * WIDTH + "+"
    return "\n".join([border, *("|" + line + "|" for line in lines), border])


class InteractiveEmulator:
    def __init__(self, terminal: Terminal, shots_dir: Path) -> None:
        self.terminal = terminal
        self.shots_dir = shots_dir
        self.status = ""

    def draw(self) -> None:
        panel = render_panel(self.terminal.pixels())
        text = " | ".join(row for row in self.terminal.screen if row)
        out = f"\x1b[H\x1b[2J{panel}\r\nscreen: {text}\r\n{LEGEND}\r\n{self.status}\r\n"
        sys.stdout.write(out.replace("\n", "\r\n").replace("\r\r\n", "\r\n"))
        sys.stdout.flush()

    def run(self) -> None:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty.setraw(fd)
        try:
            self._loop(fd)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            sys.stdout.write("\r\n")

    def _loop(self, fd: int) -> None:
        shown = 0
        self.draw()
        while True:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if len(self.terminal.screens) != shown:
                shown = len(self.terminal.screens)
                self.draw()
            if not ready:
                continue
            data = os.read(fd, 16)
            if data in (b"q", b"\x03", b"\x04"):
                return
            if data == b"s":
                path = self.shots_dir / time.strftime("screen-%Y%m%d-%H%M%S.png")
                self.terminal.screenshot(path)
                self.status = f"saved {path}"
            elif data == b"c":
                self.status = self._swipe(fd)
            elif data in KEYMAP:
                self.terminal.press(KEYMAP[data])
                self.status = f"pressed {KEYMAP[data]}"
            else:
                self.status = f"no key for {data!r}: see the legend"
            self.draw()

    def _swipe(self, fd: int) -> str:
        sys.stdout.write("card PAN=YYMM, then Enter: ")
        sys.stdout.flush()
        typed = b""
        while not typed.endswith(b"\r"):
            typed += os.read(fd, 1)
            sys.stdout.write(typed[-1:].decode(errors="replace"))
            sys.stdout.flush()
        pan, _, expiry = typed.strip().decode().partition("=")
        try:
            self.terminal.swipe(pan, expiry)
        except Exception as exc:  # noqa: BLE001 - shown to the person, who types again
            return str(exc)
        return f"swiped {pan[:6]}...{pan[-4:]}"
