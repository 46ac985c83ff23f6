"""The ``micropos`` command: one table of subcommands, errors reported once.

Every handler raises a MicroposError (or lets one through) for anything the
user can fix; ``main`` prints it as ``micropos: message`` and exits 1.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from micropos import paths
from micropos.errors import MicroposError


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


def cmd_firmware(args: argparse.Namespace) -> int:
    from micropos.firmware_image import build

    for line in build(args.board):
        print(line, flush=True)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from micropos import log_export

    image = log_export.from_port(args.port) if args.port else log_export.from_flash_file(Path(args.flash))
    try:
        log_export.write(image, args.format, sys.stdout, sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped (| head): nothing more to say, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush fails quietly too
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


def cmd_receipt(args: argparse.Namespace) -> int:
    from micropos import receipt_render

    for png in receipt_render.render_file(Path(args.file), Path(args.out) if args.out else None):
        print(png)
    return 0


def cmd_font(args: argparse.Namespace) -> int:
    from micropos import font

    print(font.write(Path(args.font), Path(args.out)))
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "board": (cmd_board, "start a virtual board behind a pty and print its path"),
    "deploy": (cmd_deploy, "compile the firmware to .mpy and copy it to a board"),
    "flash": (cmd_flash, "write a MicroPython image to a board with esptool"),
    "firmware": (cmd_firmware, "build a MicroPython image with the firmware frozen in (needs ESP-IDF)"),
    "log": (cmd_log, "export the terminal's journal (log export --flash FILE | --port PORT)"),
    "demo": (cmd_demo, "make run: the acquirer with demo sales, then the emulator, interactive"),
    "receipt": (cmd_receipt, "receipt render FILE.receipts.bin: each receipt the printer got, drawn to a PNG"),
    "font": (cmd_font, "font build: the 中文 glyph file for exactly the characters the firmware uses"),
    "bench": (cmd_bench, "measure the figures recorded in the README"),
}


def build_parser() -> argparse.ArgumentParser:
    from micropos import acquirer_cli, emulator_cli

    parser = argparse.ArgumentParser(prog="micropos", description="micropos card terminal: host tools")
    sub = parser.add_subparsers(dest="command", required=True)
    acquirer_cli.add_parser(sub)
    emulator_cli.add_parser(sub)
    parsers = {name: sub.add_parser(name, help=help_text, description=help_text)
               for name, (_, help_text) in COMMANDS.items()}

    p = parsers["board"]
    p.add_argument("--pty", action="store_true",
                   help="serve the board on a pseudo-terminal (the only way there is; accepted for old scripts)")
    p.add_argument("--fs", default=str(paths.VAR / "vboard" / "fs"), metavar="DIR",
                   help="the board's filesystem folder (default: %(default)s)")
    p.add_argument("--heap", default="2m", help="MicroPython heap size (default: %(default)s)")

    p = parsers["log"]
    log_sub = p.add_subparsers(dest="log_command", required=True, metavar="export")
    p = log_sub.add_parser("export", help="one row per transaction with its latest status")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--flash", metavar="FILE", help="an emulator flash image")
    source.add_argument("--port", metavar="PORT", help="a board (or virtual board) with the firmware deployed")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv (a header, then a row per transaction) or json (default: %(default)s)")

    p = parsers["receipt"]
    receipt_sub = p.add_subparsers(dest="receipt_command", required=True, metavar="render")
    p = receipt_sub.add_parser("render", help="draw each receipt of a printer byte file to a PNG, 384 dots wide")
    p.add_argument("file", metavar="FILE.receipts.bin", help="the printer's bytes, as the emulator saves them")
    p.add_argument("--out", metavar="DIR", help="where the PNGs go (default: beside the file)")

    from micropos import font

    p = parsers["font"]
    font_sub = p.add_subparsers(dest="font_command", required=True, metavar="build")
    p = font_sub.add_parser("build", help="subset a bitmap font to the firmware's characters and write the glyph file")
    p.add_argument("--font", default=str(font.DEFAULT_FONT),
                   help=f"a PCF bitmap font, 12 px (default: %(default)s, from Debian's {font.FONT_PACKAGE})")
    p.add_argument("--out", default=str(font.GLYPH_FILE), help="the glyph file (default: %(default)s)")

    p = parsers["deploy"]
    p.add_argument("--port", required=True, help="serial port or virtual board pty")
    p.add_argument("--board", default="auto", help="board definition (default: detected from the board)")

    p = parsers["firmware"]
    p.add_argument("--board", default="esp32_devkitc", help="board to build for (default: %(default)s)")

    p = parsers["flash"]
    p.add_argument("--board", default="esp32_devkitc", help="board definition (default: %(default)s)")
    p.add_argument("--port", required=True, help="the board's serial port, e.g. /dev/ttyUSB0")
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
