"""The leak check: no file the terminal side wrote holds a card number in full, or an expiry beside one.

Every card a test swipes, or keys in digit by digit, is noted here (by
``Terminal``); so is every PAN in an acquirer ledger the tests left behind.
At the end of the session the pytest plugin scans what the terminal side
wrote (flash images, receipts as text and bytes, exports, device and host
logs, screenshots) for each noted PAN: in ASCII, packed two digits a byte
as a journal would, or as ``PAN=YYMM``, and for a masked PAN followed by its
expiry. A hit fails the run.

Exempt, because they are the bank's or the test's own input: the acquirer's
ledgers (SQLite files), seed CSVs and emulator scripts.
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from micropos.carddata import luhn_ok, masked

_cards: dict[str, set[str]] = {}  # PAN -> the expiries seen with it
_after_func = False  # the last key pressed was FUNC
_run = ""  # digits typed since
_LEDGER_SUFFIXES = (".sqlite3", ".sqlite3-journal", ".sqlite3-wal", ".sqlite3-shm", ".db")
_SEED_HEADER = b"rrn,date,amount,pan"
_SCRIPT_COMMANDS = (b"key ", b"card ", b"wait ", b"sleep ", b"screenshot ", b"power-cut", b"boot", b"#")


def note_card(pan: str, expiry: str = "") -> None:
    """Remembers a card the tests used."""
    _cards.setdefault(pan, set())
    if expiry:
        _cards[pan].add(expiry)


def note_keys(names: Iterable[str]) -> None:
    """Remembers a card number keyed in: after FUNC (on the card screen), 12 to 19 digits that pass the Luhn check.

    An RRN typed elsewhere (12 digits, which pass the check one time in ten)
    is not a card. Presses that follow one another are read as one sequence.
    """
    global _after_func, _run
    for name in names:
        if name.isdigit() and (_after_func or _run):
            _run += name
            continue
        if 12 <= len(_run) <= 19 and luhn_ok(_run):
            note_card(_run)
        _run = ""
        _after_func = name == "FUNC"


def noted() -> dict[str, set[str]]:
    return {pan: set(expiries) for pan, expiries in _cards.items()}


def forget() -> None:
    global _after_func, _run
    _cards.clear()
    _after_func, _run = False, ""


@dataclass(frozen=True)
class Leak:
    path: Path
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def exempt(path: Path) -> bool:
    """Ledgers, seed CSVs and emulator scripts: the bank's data and the tests' own input."""
    if path.name.endswith(_LEDGER_SUFFIXES):
        return True
    if path.suffix not in (".csv", ".txt"):
        return False
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return True
    if path.suffix == ".csv":
        return head.startswith(_SEED_HEADER)
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith(_SCRIPT_COMMANDS) for line in lines)


def ledger_pans(paths: Iterable[Path]) -> set[str]:
    """The PANs held by the acquirer ledgers among ``paths`` (they tell what to look for elsewhere)."""
    pans: set[str] = set()
    for path in paths:
        if not path.name.endswith(".sqlite3"):
            continue
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                pans.update(row[0] for row in db.execute("SELECT DISTINCT pan FROM txns WHERE pan != ''"))
        except sqlite3.Error:
            continue
    return {pan for pan in pans if pan and pan.isdigit()}


def _patterns(cards: dict[str, set[str]]) -> list[tuple[re.Pattern[bytes], str]]:
    found = []
    for pan, expiries in sorted(cards.items()):
        shown = masked(pan)
        found.append((re.compile(re.escape(pan.encode())), f"the full PAN {shown}"))
        if len(pan) % 2 == 0:
            found.append((re.compile(re.escape(bytes.fromhex(pan))), f"the full PAN {shown}, packed"))
        for expiry in sorted(expiries):
            near = re.escape(pan[:6].encode()) + rb"[0-9*]{2,9}" + re.escape(pan[-4:].encode()) + rb"[^0-9\n]{0,8}" + \
                re.escape(expiry.encode())
            found.append((re.compile(near), f"the expiry {expiry[:2]}** beside {shown}"))
    return found


def scan(roots: Iterable[Path], cards: dict[str, set[str]], since: float = 0.0) -> list[Leak]:
    """Every file under ``roots`` written at ``since`` or later (but the exempt ones) that holds one of ``cards``."""
    patterns = _patterns(cards)
    leaks = []
    for path in _files(roots):
        try:
            if path.stat().st_mtime < since:
                continue
        except OSError:
            continue
        if exempt(path):
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for pattern, what in patterns:
            if pattern.search(data):
                leaks.append(Leak(path, what))
                break
    return leaks


def _files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (p for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink())
