"""``make flash``: a MicroPython image written to an ESP32 with esptool."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from micropos.errors import MicroposError, SetupError

# board -> (esptool chip name, offset of the image)
BOARDS = {"esp32_devkitc": ("esp32", "0x1000")}


def esptool_command(board: str, port: str, firmware: Path, erase: bool = False) -> list[list[str]]:
    if board not in BOARDS:
        raise SetupError(f"no flashing recipe for board '{board}' (known: {', '.join(BOARDS)})")
    chip, offset = BOARDS[board]
    tool = str(Path(sys.executable).parent / "esptool")
    base = [tool, "--chip", chip, "--port", port, "--baud", "460800"]
    steps = [[*base, "erase-flash"]] if erase else []
    steps.append([*base, "write-flash", "-z", offset, str(firmware)])
    return steps


def flash(board: str, port: str, firmware: Path | None, erase: bool = False) -> None:
    if firmware is None:
        raise SetupError("FIRMWARE=... is required: the MicroPython image for the board "
                         "(for esp32_devkitc, the ESP32_GENERIC .bin from MicroPython's downloads), "
                         "e.g. make flash BOARD=esp32_devkitc PORT=/dev/ttyUSB0 FIRMWARE=ESP32_GENERIC.bin")
    if not firmware.is_file():
        raise SetupError(f"firmware image {firmware} does not exist")
    if not Path(port).exists():
        raise SetupError(f"no serial port {port}: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)")
    for command in esptool_command(board, port, firmware, erase):
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            raise MicroposError(f"esptool failed: {lines[-1] if lines else 'no output'}")
