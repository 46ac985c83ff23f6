"""``micropos emulator --script``: a person's session at the keypad, written down.

One command a line:
    key NAME...            press logical keys
    card PAN=YYMM          swipe a card
    wait TEXT [SECONDS]    until a screen shows TEXT (default 10 s); a miss ends the run
    sleep SECONDS          let time pass
    screenshot FILE        save the panel as PNG
    power-cut              pull the plug, mid-whatever
    boot                   power on again, same flash
Blank lines and lines starting with # are skipped.  Every new screen is
printed as its rows followed by ``----``.
"""
from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from micropos.errors import MicroposError
from micropos.terminal import KEY_NAMES, Terminal

DEFAULT_WAIT_S = 10.0


class ScriptError(MicroposError):
    """A script line that cannot be run as written."""


@dataclass(frozen=True)
class Step:
    line_no: int
    command: str
    args: list[str]


def parse(lines: Iterable[str], source: str = "script") -> list[Step]:
    steps = []
    for line_no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        where = f"{source}:{line_no}"
        if command == "key":
            args = rest.split()
            if not args:
                raise ScriptError(f"{where}: 'key' needs at least one key name")
            for name in args:
                if name not in KEY_NAMES:
                    raise ScriptError(f"{where}: unknown key '{name}' (keys: {' '.join(KEY_NAMES)})")
        elif command == "card":
            if "=" not in rest:
                raise ScriptError(f"{where}: 'card' takes PAN=YYMM, got '{rest}'")
            args = [rest]
        elif command == "wait":
            args = _wait_args(rest, where)
        elif command == "sleep":
            args = [str(_seconds(rest, where))]
        elif command == "screenshot":
            if not rest:
                raise ScriptError(f"{where}: 'screenshot' needs a file name")
            args = [rest]
        elif command in ("power-cut", "boot"):
            args = []
        else:
            raise ScriptError(f"{where}: unknown command '{command}' "
                              "(key, card, wait, sleep, screenshot, power-cut, boot)")
        steps.append(Step(line_no, command, args))
    return steps


def _wait_args(rest: str, where: str) -> list[str]:
    words = rest.split()
    if not words:
        raise ScriptError(f"{where}: 'wait' needs the text to wait for")
    if len(words) > 1:
        try:
            seconds = float(words[-1])
        except ValueError:
            pass
        else:
            return [rest.rsplit(None, 1)[0], str(seconds)]
    if rest.startswith(("'", '"')):
        rest = shlex.split(rest)[0]
    return [rest, str(DEFAULT_WAIT_S)]


def _seconds(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScriptError(f"{where}: expected seconds, got '{text}'") from None
    if value < 0:
        raise ScriptError(f"{where}: seconds cannot be negative")
    return value


class ScriptRunner:
    """Runs steps against terminals made by ``boot`` (a fresh one after each power-cut)."""

    def __init__(self, boot: Callable[[], Terminal]) -> None:
        self._boot = boot
        self.terminal: Terminal | None = boot()

    def run(self, steps: list[Step]) -> None:
        """Runs every step; a firmware that stopped along the way fails the run even after the last step."""
        for step in steps:
            self._step(step)
        if self.terminal is not None:
            self.terminal.alive()

    def _live(self, step: Step) -> Terminal:
        if self.terminal is None:
            raise ScriptError(f"line {step.line_no}: '{step.command}' while the power is off (use 'boot')")
        return self.terminal

    def _step(self, step: Step) -> None:
        if step.command == "key":
            self._live(step).press(*step.args)
        elif step.command == "card":
            pan, _, expiry = step.args[0].partition("=")
            self._live(step).swipe(pan, expiry)
        elif step.command == "wait":
            self._live(step).expect(step.args[0], float(step.args[1]))
        elif step.command == "sleep":
            time.sleep(float(step.args[0]))
        elif step.command == "screenshot":
            self._live(step).screenshot(Path(step.args[0]))
        elif step.command == "power-cut":
            self._live(step).power_cut()
            self.terminal = None
        elif step.command == "boot":
            if self.terminal is not None:
                self.terminal.power_cut()
            self.terminal = self._boot()

    def close(self) -> None:
        if self.terminal is not None:
            self.terminal.close()
            self.terminal = None
