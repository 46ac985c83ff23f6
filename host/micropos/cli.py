"""The ``micropos`` command: one table of subcommands, errors reported once.

Every handler raises a MicroposError (or lets one through) for anything the
user can fix; ``main`` prints it as ``micropos: message`` and exits 1.
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from micropos import paths
from micropos.errors import LinkError, MicroposError
from micropos.transport import DEFAULT_HEAP

if TYPE_CHECKING:
    from micropos.terminal import Screen, Terminal

EMULATOR_LOG = paths.VAR / "logs" / "emulator.log"


def _emulator_terminal(args: argparse.Namespace, on_screen: Callable[[Screen], None] | None = None) -> Terminal:
    from micropos.terminal import Terminal
    from micropos.transport import EmulatorTransport

    env = {"MICROPOS_FLASH": str(Path(args.flash).resolve())}
    if args.cut_after_writes is not None:
        env["MICROPOS_CUT_AFTER_WRITES"] = str(args.cut_after_writes)
        env["MICROPOS_CUT_HALF"] = "1" if args.cut_half else "0"
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


def cmd_emulator(args: argparse.Namespace) -> int:
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


def cmd_board(args: argparse.Namespace) -> int:
    from micropos.vboard import VirtualBoard

    board = VirtualBoard(fs_dir=Path(args.fs), heap=args.heap)
    port = board.start()
    print(port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while board.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from micropos.deploy import deploy

    for line in deploy(args.port, args.board):
        print(line, flush=True)
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from micropos.flashing import flash

    flash(args.board, args.port, Path(args.firmware) if args.firmware else None, erase=args.erase)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from micropos import log_export

    image = log_export.from_port(args.port) if args.port else log_export.from_flash_file(Path(args.flash))
    log_export.write(image, args.format, sys.stdout, sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from micropos import demo

    return demo.run(args)


def cmd_bench(args: argparse.Namespace) -> int:
    import tempfile

    from micropos import bench

    with tempfile.TemporaryDirectory() as tmp:
        print(bench.format_table(bench.run(str(Path(tmp) / "flash.img"))))
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "emulator": (cmd_emulator, "run the terminal firmware on the unix port (interactive, or --script)"),
    "board": (cmd_board, "start a virtual board behind a pty and print its path"),
    "deploy": (cmd_deploy, "compile the firmware to .mpy and copy it to a board"),
    "flash": (cmd_flash, "write a MicroPython image to a board with esptool"),
    "log": (cmd_log, "export the terminal's journal (log export --flash FILE | --port PORT)"),
    "demo": (cmd_demo, "make run: the acquirer with demo sales, and the emulator, interactive"),
    "bench": (cmd_bench, "measure the figures recorded in the README"),
}


def build_parser() -> argparse.ArgumentParser:
    from micropos import acquirer_cli

    parser = argparse.ArgumentParser(prog="micropos", description="micropos card terminal: host tools")
    sub = parser.add_subparsers(dest="command", required=True)
    acquirer_cli.add_parser(sub)
    parsers = {name: sub.add_parser(name, help=help_text) for name, (_, help_text) in COMMANDS.items()}

    p = parsers["emulator"]
    p.add_argument("--acquirer", metavar="H:P", help="acquirer address (default: the terminal's configured one)")
    p.add_argument("--flash", default=str(paths.VAR / "emulator" / "flash.img"), metavar="FILE",
                   help="flash image file, kept across runs (default: %(default)s)")
    p.add_argument("--script", metavar="FILE", help="run a script of key/card/wait/sleep/power-cut/boot lines")
    p.add_argument("--heap", default=DEFAULT_HEAP, help="MicroPython heap size (default: %(default)s)")
    p.add_argument("--cut-after-writes", type=int, metavar="N",
                   help="cut the power at the N-th flash program or erase")
    p.add_argument("--cut-half", action="store_true",
                   help="with --cut-after-writes: that write is half applied (a torn program or erase)")

    p = parsers["board"]
    p.add_argument("--pty", action="store_true", required=True, help="serve the board on a pseudo-terminal")
    p.add_argument("--fs", default=str(paths.VAR / "vboard" / "fs"), help="the board's filesystem folder")
    p.add_argument("--heap", default="2m", help="MicroPython heap size (default: %(default)s)")

    p = parsers["log"]
    log_sub = p.add_subparsers(dest="log_command", required=True)
    p = log_sub.add_parser("export", help="one row per transaction with its latest status")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--flash", metavar="FILE", help="an emulator flash image")
    source.add_argument("--port", metavar="PORT", help="a board (or virtual board) with the firmware deployed")
    p.add_argument("--format", choices=("csv", "json"), default="csv")

    p = parsers["deploy"]
    p.add_argument("--port", required=True, help="serial port or virtual board pty")
    p.add_argument("--board", default="auto", help="board definition (default: detected from the board)")

    p = parsers["flash"]
    p.add_argument("--board", default="esp32_devkitc")
    p.add_argument("--port", required=True)
    p.add_argument("--firmware", metavar="FILE", help="MicroPython image (.bin) for the board")
    p.add_argument("--erase", action="store_true", help="erase the whole flash first")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = COMMANDS[args.command][0] if args.command in COMMANDS else args.func
    try:
        return handler(args)
    except MicroposError as exc:
        print(f"micropos: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
