"""``micropos emulator``: the terminal firmware on the unix port, interactive or scripted.

Used by ``micropos emulator`` and by ``make run`` (``micropos demo``), which
starts it against its demo acquirer.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from micropos import paths
from micropos.errors import LinkError, MicroposError
from micropos.transport import DEFAULT_HEAP

if TYPE_CHECKING:
    from micropos.terminal import Screen, Terminal

HELP = "run the terminal firmware on the unix port (interactive, or --script)"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Adds the ``emulator`` subcommand; its handler is set as ``func``."""
    from micropos.emulator_ui import key_table

    p: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help=HELP, description=HELP + ". The keyboard is the keypad:",
        epilog=key_table(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--acquirer", metavar="H:P",
                   help="acquirer address, known from power-on (default: the terminal's configured one)")
    p.add_argument("--flash", default=str(paths.VAR / "emulator" / "flash.img"), metavar="FILE",
                   help="flash image file, kept across runs; receipts go beside it (default: %(default)s)")
    p.add_argument("--script", metavar="FILE",
                   help="no person: one command a line, key NAME... | card PAN=YYMM | wait TEXT [SECONDS] | "
                        "sleep SECONDS | screenshot FILE | power-cut | boot")
    p.add_argument("--heap", default=DEFAULT_HEAP,
                   help="MicroPython heap size, e.g. 64k (default: %(default)s, an ESP32's without PSRAM)")
    p.add_argument("--cut-after-writes", type=int, metavar="N",
                   help="cut the power at the N-th flash program or erase; the next run on --flash is the reboot")
    p.add_argument("--cut-half", action="store_true",
                   help="with --cut-after-writes: that write is half applied (a torn program or erase)")
    p.add_argument("--no-clock", action="store_true",
                   help="start with no time, as a board after power-on: the first send sets it from the acquirer")
    p.set_defaults(func=run)
    return p


EMULATOR_LOG = paths.VAR / "logs" / "emulator.log"


def _emulator_terminal(args: argparse.Namespace, on_screen: Callable[[Screen], None] | None = None) -> Terminal:
    from micropos.terminal import Terminal
    from micropos.transport import EmulatorTransport

    env = {"MICROPOS_FLASH": str(Path(args.flash).resolve())}
    if args.cut_after_writes is not None:
        env["MICROPOS_CUT_AFTER_WRITES"] = str(args.cut_after_writes)
        env["MICROPOS_CUT_HALF"] = "1" if args.cut_half else "0"
    if args.no_clock:
        env["MICROPOS_NO_CLOCK"] = "1"
    if args.acquirer:
        host, sep, port = args.acquirer.rpartition(":")
        if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
            raise MicroposError(f"--acquirer takes HOST:PORT, e.g. 127.0.0.1:8583, not {args.acquirer!r}")
        env["MICROPOS_ACQUIRER"] = args.acquirer  # known at boot: a reversal owed goes out before anything
    log = EMULATOR_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    Path(args.flash).parent.mkdir(parents=True, exist_ok=True)
    terminal = Terminal(EmulatorTransport(heap=args.heap, env=env), log_path=log, on_screen=on_screen)
    terminal.ready()
    return terminal


def run(args: argparse.Namespace) -> int:
    """Runs the emulator as ``args`` say: interactive, or a script with no person."""
    if args.script:
        from micropos.emulator_script import ScriptRunner, parse

        script = Path(args.script)
        try:
            steps = parse(script.read_text().splitlines(), source=str(script))
        except OSError as exc:
            raise MicroposError(f"cannot read script {script}: {exc.strerror}") from exc

        def print_screen(screen: tuple[str, ...]) -> None:
            print("\n".join(screen) + "\n----", flush=True)

        log_start = EMULATOR_LOG.stat().st_size if EMULATOR_LOG.exists() else 0
        runner = ScriptRunner(lambda: _emulator_terminal(args, on_screen=print_screen))
        try:
            runner.run(steps)
        except LinkError:
            with open(EMULATOR_LOG, "rb") as log:
                log.seek(log_start)
                cut = b"PowerCut" in log.read()
            if args.cut_after_writes is None or not cut:
                raise
            print(f"-- the power failed at flash write {args.cut_after_writes}, as --cut-after-writes asked; "
                  "the next run on the same --flash is the reboot", flush=True)
        finally:
            runner.close()
        return 0
    from micropos.emulator_ui import InteractiveEmulator

    if not sys.stdin.isatty():
        raise MicroposError("the interactive emulator needs a terminal; use --script FILE otherwise")
    terminal = _emulator_terminal(args)
    try:
        InteractiveEmulator(terminal, paths.VAR / "screenshots").run()
    finally:
        terminal.close()
    return 0
