"""``make flash``: a MicroPython image and the board's partition table written to an ESP32 with esptool.

MicroPython's combined image (bootloader at 0x1000, its stock partition table
at 0x8000, the app at 0x10000) has no raw ``journal`` partition, so the board's
own table, encoded from ``boards/<board>_partitions.csv``, is written at 0x8000
after the image. That takes two ``write-flash`` runs: esptool refuses one run
whose files overlap, and the image already covers 0x8000. The first run leaves
the chip in the bootloader, so it never boots with the stock table.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from micropos import partition_table, paths
from micropos.boards import BOARDS, Board
from micropos.errors import MicroposError, SetupError


def _recipe(name: str) -> tuple[str, int, Path]:
    """(esptool chip, image offset, partition table CSV) of a board that can be flashed.

    Raises:
        SetupError: no such board, or one that nothing flashes (the emulator).
    """
    flashable = {n: b for n, b in BOARDS.items() if b.chip}
    found: Board | None = flashable.get(name)
    if found is None or found.image_offset is None or found.partitions is None:
        raise SetupError(f"no flashing recipe for board '{name}' (known: {', '.join(flashable)})")
    return found.chip or "", found.image_offset, found.partitions


def table_path(board: str) -> Path:
    """Where the board's encoded partition table is written before flashing."""
    return paths.VAR / "build" / f"{board}_partitions.bin"


def esptool_command(board: str, port: str, firmware: Path, erase: bool = False,
                    table: Path | None = None) -> list[list[str]]:
    """The esptool runs that flash ``board``, in order.

    Args:
        board: A key of ``BOARDS``.
        port: The board's serial port.
        firmware: MicroPython's combined image for the board.
        erase: Erase the whole flash first.
        table: The encoded partition table; ``table_path(board)`` if None.

    Returns:
        One argv per run: erase (if asked), the image, then the table.

    Raises:
        SetupError: No flashing recipe for ``board``.
    """
    chip, offset, _ = _recipe(board)
    tool = str(Path(sys.executable).parent / "esptool")
    base = [tool, "--chip", chip, "--port", port, "--baud", "460800"]
    steps = [[*base, "erase-flash"]] if erase else []
    steps.append([*base, "--after", "no-reset", "write-flash", "-z", f"{offset:#x}", str(firmware)])
    steps.append([*base, "write-flash", "-z", f"{partition_table.TABLE_OFFSET:#x}",
                  str(table or table_path(board))])
    return steps


def flash(board: str, port: str, firmware: Path | None, erase: bool = False) -> None:
    """Writes ``firmware`` and the board's partition table to the board on ``port``.

    Raises:
        SetupError: The image, the port, the board's recipe or its partition table is missing or invalid.
        MicroposError: esptool failed.
    """
    _recipe(board)
    if firmware is None:
        raise SetupError("FIRMWARE=... is required: the MicroPython image for the board "
                         "(for esp32_devkitc, the ESP32_GENERIC .bin from MicroPython's downloads), "
                         "e.g. make flash BOARD=esp32_devkitc PORT=/dev/ttyUSB0 FIRMWARE=ESP32_GENERIC.bin")
    if not firmware.is_file():
        raise SetupError(f"firmware image {firmware} does not exist")
    if not Path(port).exists():
        raise SetupError(f"no serial port {port}: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)")
    commands = esptool_command(board, port, firmware, erase)
    partition_table.write(_recipe(board)[2], table_path(board))
    for command in commands:
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            raise MicroposError(f"esptool failed: {lines[-1] if lines else 'no output'}")
