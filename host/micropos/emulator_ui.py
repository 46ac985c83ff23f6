"""The interactive emulator: the 128x64 panel drawn in this terminal, the keyboard as keypad.

The panel is redrawn from the firmware's own pixels (``shot``) after every new
screen, in the larger layout the terminal has room for, asked again at each
draw: half blocks (2 pixel rows a cell, 128x32) from 130x37, braille (2x4
pixels a cell, 64x16) from 80x24; below that a line says the window is too
small, and keys are still taken.

Everything read from the keyboard goes through ``split_keys``: a fast typist
or a paste delivers several keys in one read, and every one of them counts, in
order.
"""
from __future__ import annotations

import os
import select
import shutil
import sys
import termios
import time
import tty
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, TextIO

from micropos.carddata import masked
from micropos.errors import LinkError
from micropos.screenshot import HEIGHT, WIDTH, to_rows

Screen = tuple[str, ...]

# keyboard byte sequence -> logical key
KEYMAP: dict[bytes, str] = {
    **{str(d).encode(): str(d) for d in range(10)},
    b"\r": "ENTER", b"\n": "ENTER", b"\r\n": "ENTER",
    b"\x1b": "CANCEL", b"x": "CANCEL",
    b"\x7f": "CLEAR", b"\x08": "CLEAR",
    b"f": "FUNC", b"\t": "FUNC",
    b"\x1b[A": "UP", b"\x1b[B": "DOWN", b"\x1bOA": "UP", b"\x1bOB": "DOWN", b"u": "UP", b"d": "DOWN",
}

Kind = Literal["key", "quit", "shot", "card", "unknown"]

# keyboard byte -> what the emulator does that is not a keypad key
COMMANDS: dict[bytes, Kind] = {b"q": "quit", b"\x03": "quit", b"\x04": "quit", b"s": "shot", b"c": "card"}

# (keyboard, what it does on the keypad, 中文): `micropos emulator --help`
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

# (中文, keyboard): the legend under the panel, the cashier's language first
LEGEND_ITEMS: tuple[tuple[str, str], ...] = (
    ("数字", "0-9"), ("确认", "Enter"), ("取消", "Esc/x"), ("清除", "Backspace"), ("功能", "f/Tab"),
    ("上下", "↑↓/u/d"), ("刷卡", "c"), ("截屏", "s"), ("退出", "q"),
)

CARD_PROMPT = "刷卡 card: PAN=YYMM 回车 Enter, Esc 取消 cancel > "

Layout = Literal["half", "braille", "too_small"]

MIN_COLUMNS, MIN_LINES = 80, 24
ESC_WAIT = 0.05  # how long a lone Esc waits for the rest of an arrow key's sequence
IDLE_TICK = 0.1  # how often new screens and a resized window are looked for
_MAX_SEQUENCE = 16  # an escape sequence longer than this is garbage, not one still arriving


def key_table() -> str:
    """The keys of the interactive emulator, one a line, in both languages."""
    width = max(len(keyboard) for keyboard, _, _ in KEYS)
    return "\n".join(f"  {keyboard:<{width}}  {key} ({zh})" for keyboard, key, zh in KEYS)


# -- the keyboard ---------------------------------------------------------------


class Token(NamedTuple):
    """One thing typed: a keypad key (``key`` names it), a command, or bytes mapped to nothing."""

    kind: Kind
    raw: bytes
    key: str = ""


def _lookup(raw: bytes) -> Token:
    if raw in KEYMAP:
        return Token("key", raw, KEYMAP[raw])
    if raw in COMMANDS:
        return Token(COMMANDS[raw], raw)
    return Token("unknown", raw)


def _escape_at(data: bytes, i: int) -> Token | None:
    """The token starting with the Esc at ``data[i]``, or None if ``data`` ends inside it."""
    if i + 1 == len(data):
        return None
    intro = data[i + 1]
    if intro == ord("["):  # CSI: parameter and intermediate bytes, then one final byte
        j = i + 2
        while j < len(data) and 0x20 <= data[j] <= 0x3F:
            j += 1
        if j == len(data):
            return None if j - i < _MAX_SEQUENCE else Token("unknown", data[i:j])
        if 0x40 <= data[j] <= 0x7E:
            return _lookup(data[i:j + 1])  # Delete (ESC [ 3 ~) is one unknown key, never a "3"
        return Token("unknown", data[i:j])  # cut short: the byte at j starts the next token
    if intro == ord("O"):  # SS3: the arrows of a terminal in application cursor mode
        if i + 2 == len(data):
            return None
        if 0x40 <= data[i + 2] <= 0x7E:
            return _lookup(data[i:i + 3])
        return Token("unknown", data[i:i + 2])
    return Token("key", b"\x1b", "CANCEL")


def _utf8_at(data: bytes, i: int) -> Token | None:
    """A whole UTF-8 character (an input method's, say) as one unknown token; None if cut by the read."""
    lead = data[i]
    size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4 if lead < 0xF8 else 1
    j = i + 1
    while j < min(i + size, len(data)) and 0x80 <= data[j] < 0xC0:
        j += 1
    if j < i + size and j == len(data):
        return None
    return Token("unknown", data[i:j])


def _token_at(data: bytes, i: int) -> Token | None:
    """The token starting at ``data[i]``, or None if ``data`` ends inside it."""
    if data[i] == 0x1B:
        return _escape_at(data, i)
    if data.startswith(b"\r\n", i):  # a pasted Windows line ending is one Enter, not two
        return _lookup(b"\r\n")
    if data[i] >= 0xC0:
        return _utf8_at(data, i)
    return _lookup(data[i:i + 1])


def split_keys(data: bytes) -> tuple[list[Token], bytes]:
    """The tokens in ``data``, in order, and the incomplete sequence it ends with (for the next read)."""
    tokens: list[Token] = []
    i = 0
    while i < len(data):
        token = _token_at(data, i)
        if token is None:
            return tokens, data[i:]
        tokens.append(token)
        i += len(token.raw)
    return tokens, b""


class KeyReader:
    """``split_keys`` across reads: keeps a sequence a read cut in two until the rest arrives."""

    def __init__(self) -> None:
        self.pending = b""
        self._after_cr = False

    def feed(self, data: bytes) -> list[Token]:
        after_cr, self._after_cr = self._after_cr, False
        if after_cr and not self.pending and data.startswith(b"\n"):
            data = data[1:]  # the LF of a CR LF the last read ended inside: still one Enter
        tokens, self.pending = split_keys(self.pending + data)
        self._after_cr = bool(tokens) and not self.pending and tokens[-1].raw == b"\r"
        return tokens

    def flush(self) -> list[Token]:
        """What is pending once the keyboard is quiet: a lone Esc is CANCEL, anything else unknown."""
        pending, self.pending = self.pending, b""
        self._after_cr = False
        if not pending:
            return []
        return [_lookup(pending) if pending == b"\x1b" else Token("unknown", pending)]


# -- the panel ------------------------------------------------------------------


def display_width(text: str, ambiguous: int = 1) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide characters take two.

    ``ambiguous`` is what the "A" characters (arrows, box drawing, half
    blocks) take: 1 in most terminals, 2 in some set up for CJK.
    """
    width = 0
    for char in text:
        kind = unicodedata.east_asian_width(char)
        if kind in ("W", "F"):
            width += 2
        elif kind == "A":
            width += ambiguous
        elif not unicodedata.combining(char):
            width += 1
    return width


def fit(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` display columns."""
    width = 0
    for index, char in enumerate(text):
        width += display_width(char)
        if width > columns:
            return text[:index]
    return text


def legend_lines(columns: int) -> list[str]:
    """The legend packed into lines of at most ``columns``, even where ↑↓ take two columns each."""
    lines: list[str] = []
    for zh, keyboard in LEGEND_ITEMS:
        item = f"{zh} {keyboard}"
        if lines and display_width(f"{lines[-1]} | {item}", ambiguous=2) <= columns:
            lines[-1] += f" | {item}"
        else:
            lines.append(item)
    return lines


def _bordered(lines: list[str], width: int) -> str:
    border = "+" + "-" * width + "+"
    return "\n".join([border, *("|" + line + "|" for line in lines), border])


def render_half(pixels: bytes) -> str:
    """The panel in half blocks, two pixel rows a character: 128x32 inside an ASCII border."""
    rows = to_rows(pixels)
    lines = []
    for y in range(0, HEIGHT, 2):
        top, bottom = rows[y], rows[y + 1]
        lines.append("".join(" ▀▄█"[t | (b << 1)] for t, b in zip(top, bottom, strict=True)))
    return _bordered(lines, WIDTH)


# the dot bit of pixel (dx, dy) of a braille cell, indexed [dy][dx]
_BRAILLE_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def render_braille(pixels: bytes) -> str:
    """The panel in braille, 2x4 pixels a character: 64x16 inside an ASCII border, for an 80x24 terminal."""
    rows = to_rows(pixels)
    lines = []
    for y in range(0, HEIGHT, 4):
        cells = []
        for x in range(0, WIDTH, 2):
            bits = 0
            for dy, dots in enumerate(_BRAILLE_DOTS):
                for dx, dot in enumerate(dots):
                    if rows[y + dy][x + dx]:
                        bits |= dot
            cells.append(chr(0x2800 + bits))
        lines.append("".join(cells))
    return _bordered(lines, WIDTH // 2)


def render_panel(pixels: bytes, style: Literal["half", "braille"] = "half") -> str:
    """The panel as text, in half blocks or braille."""
    return render_braille(pixels) if style == "braille" else render_half(pixels)


def _under_panel(columns: int) -> int:
    """Lines under the panel's border: the screen's text, the legend, the status."""
    return 1 + len(legend_lines(columns)) + 1


HALF_COLUMNS = WIDTH + 2
HALF_LINES = HEIGHT // 2 + 2 + _under_panel(HALF_COLUMNS)


def choose_layout(columns: int, lines: int) -> Layout:
    """The largest panel a terminal of this size shows whole."""
    if columns >= HALF_COLUMNS and lines >= HALF_LINES:
        return "half"
    if columns >= MIN_COLUMNS and lines >= MIN_LINES:
        return "braille"
    return "too_small"


def too_small(columns: int, lines: int) -> str:
    """Why there is no panel, in both languages, in as few words as the terminal's width needs."""
    need, have = f"{MIN_COLUMNS}x{MIN_LINES}", f"{columns}x{lines}"
    full = f"终端窗口太小 / terminal too small: need {need}, have {have}"
    return full if display_width(full) <= columns else f"太小 too small: {have} < {need}"


def frame(columns: int, lines: int, pixels: Callable[[], bytes], screen: Sequence[str], status: str) -> list[str]:
    """The lines to draw in a terminal of this size, none wider than it; ``pixels`` is asked only for a panel."""
    layout = choose_layout(columns, lines)
    if layout == "too_small":
        return [fit(line, columns) for line in (too_small(columns, lines), status)[:max(lines, 1)]]
    text = "屏幕 screen: " + " | ".join(row for row in screen if row)
    under = [text, *legend_lines(columns), status]
    return [*render_panel(pixels(), layout).split("\n"), *(fit(line, columns) for line in under)]


def terminal_size() -> tuple[int, int]:
    """(columns, lines) of the terminal on stdout, now: the person may resize it at any time."""
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (OSError, ValueError):
        size = shutil.get_terminal_size()
    return size.columns, size.lines


# -- the emulator ---------------------------------------------------------------


class Keypad(Protocol):
    """What the interactive emulator needs of a terminal (``micropos.terminal.Terminal`` has it)."""

    screens: list[Screen]

    @property
    def screen(self) -> Screen: ...

    def press(self, *names: str) -> None: ...

    def swipe(self, pan: str, expiry: str) -> None: ...

    def pixels(self, timeout: float = ...) -> bytes: ...

    def screenshot(self, path: Path, scale: int = ...) -> Path: ...


class InteractiveEmulator:
    def __init__(self, terminal: Keypad, shots_dir: Path, *, out: TextIO | None = None,
                 size: Callable[[], tuple[int, int]] = terminal_size) -> None:
        self.terminal = terminal
        self.shots_dir = shots_dir
        self.out = out if out is not None else sys.stdout
        self.size = size
        self.status = ""
        self.reader = KeyReader()
        self.card: str | None = None  # what is typed at the card prompt; None when there is no prompt
        self.drawn_size = (0, 0)

    def draw(self) -> None:
        columns, lines = self.drawn_size = self.size()
        status = self.status if self.card is None else CARD_PROMPT + self.card
        rows = frame(columns, lines, self.terminal.pixels, self.terminal.screen, status)
        # home, each line over the old one, then clear what is left: no flicker of a full clear
        self.out.write("\x1b[H" + "\x1b[K\r\n".join(rows) + "\x1b[K\x1b[J")
        self.out.flush()

    def run(self) -> None:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty.setraw(fd)
        try:
            self._loop(fd)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            self.out.write("\r\n")

    def _loop(self, fd: int) -> None:
        shown = len(self.terminal.screens)
        self.draw()
        while True:
            ready, _, _ = select.select([fd], [], [], ESC_WAIT if self.reader.pending else IDLE_TICK)
            if ready:
                data = os.read(fd, 4096)
                if not data:
                    return
                tokens = self.reader.feed(data)
            else:
                tokens = self.reader.flush()
            if tokens and not self.take(tokens):
                return
            if tokens or len(self.terminal.screens) != shown or self.size() != self.drawn_size:
                shown = len(self.terminal.screens)
                self.draw()

    def handle(self, data: bytes) -> bool:
        """Takes one read from the keyboard; False once the person quits."""
        return self.take(self.reader.feed(data))

    def take(self, tokens: Iterable[Token]) -> bool:
        """Acts on the tokens in order; False at a quit (the keys before it are pressed first).

        Keypad keys in a row go in one press, so a pasted amount arrives whole
        and in order; unknown bytes are skipped and named in the status line;
        while the card prompt is open, tokens are its typing.
        """
        keys: list[str] = []
        notes: list[str] = []
        unknown: list[str] = []
        for token in tokens:
            if self.card is not None:
                self._card_input(token, notes)
            elif token.kind == "key":
                keys.append(token.key)
            elif token.kind == "unknown":
                unknown.append(repr(token.raw.decode("utf-8", "backslashreplace")))
            else:
                self._press(keys, notes)  # the keys typed before a command reach the terminal first
                if token.kind == "quit":
                    return False
                if token.kind == "shot":
                    path = self.shots_dir / time.strftime("screen-%Y%m%d-%H%M%S.png")
                    self.terminal.screenshot(path)
                    notes.append(f"已截屏 saved {path}")
                else:
                    self.card = ""
        self._press(keys, notes)
        if unknown:
            notes.append(f"无此键 no key for {' '.join(unknown)}: 见按键说明 see the legend")
        if notes:
            self.status = "; ".join(notes)
        return True

    def _press(self, keys: list[str], notes: list[str]) -> None:
        if keys:
            self.terminal.press(*keys)
            notes.append("已按 pressed " + " ".join(keys))
            keys.clear()

    def _card_input(self, token: Token, notes: list[str]) -> None:
        """One token typed at the card prompt: a character of PAN=YYMM, Backspace, Enter or Esc."""
        typed = self.card or ""
        if token.key == "ENTER":
            self.card = None
            pan, _, expiry = typed.strip().partition("=")
            try:
                self.terminal.swipe(pan, expiry)
            except LinkError as exc:  # shown to the person, who types the card again
                notes.append(f"刷卡失败 card refused: {exc}")
            else:
                notes.append(f"已刷卡 swiped {masked(pan)}")
        elif token.key == "CLEAR":
            self.card = typed[:-1]
        elif token.raw in (b"\x1b", b"\x03", b"\x04"):
            self.card = None
            notes.append("已取消刷卡 card cancelled")
        elif len(token.raw) == 1 and 0x20 <= token.raw[0] < 0x7F:
            self.card = typed + token.raw.decode()
