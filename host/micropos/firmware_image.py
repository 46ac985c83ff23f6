"""``make firmware``: a MicroPython image for a board with the micropos firmware frozen into it.

Frozen, the firmware's bytecode runs from flash and its names are interned
in flash, so the heap holds only what it allocates: the configuration the
README recommends for a board (``make deploy`` alone leaves .mpy files that
a stock MicroPython loads into its heap). The board definition is
``boards/micropython-boards/<NAME>/`` (a folder no import can reach, so it
never shadows the firmware's ``board`` module); its partition table is the
one in the board table, handed to ESP-IDF in a generated sdkconfig
fragment. Building needs ESP-IDF and a MicroPython source tree, found in the
environment as their own instructions leave them: ``IDF_PATH`` (after ESP-IDF's
``export.sh``) and ``MICROPY_DIR``. What is missing is said, exactly.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from micropos import paths
from micropos.boards import board as find_board
from micropos.errors import MicroposError, SetupError

ESP_IDF = "an ESP-IDF, v5.2 to v5.4 (install it, then source its export.sh)"
MICROPYTHON = "a clone of MicroPython's source, v1.29 (the micropython/micropython repository)"


def missing(env: Mapping[str, str]) -> list[str]:
    """What the build needs and ``env`` does not give, each said with how to get it."""
    needs = []
    idf = env.get("IDF_PATH")
    if not idf:
        needs.append(f"IDF_PATH is not set: it names {ESP_IDF}")
    elif not (Path(idf) / "tools" / "idf.py").is_file():
        needs.append(f"IDF_PATH={idf} holds no tools/idf.py: it must name {ESP_IDF}")
    mpy = env.get("MICROPY_DIR")
    if not mpy:
        needs.append(f"MICROPY_DIR is not set: it names {MICROPYTHON}")
    elif not (Path(mpy) / "ports" / "esp32" / "Makefile").is_file():
        needs.append(f"MICROPY_DIR={mpy} holds no ports/esp32/Makefile: it must name {MICROPYTHON}")
    if shutil.which("make", path=env.get("PATH")) is None:
        needs.append("make is not on PATH")
    return needs


def build(name: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Builds the image for board ``name``; yields what it does, ends with where the image is.

    Raises:
        SetupError: no such board, no board definition for it, or ESP-IDF or MicroPython missing.
        MicroposError: the build failed.
    """
    env = dict(os.environ if env is None else env)
    found = find_board(name)
    if found.micropython_board is None or found.partitions is None:
        raise SetupError(f"board '{name}' has no MicroPython board definition to freeze the firmware into")
    needs = missing(env)
    if needs:
        raise SetupError("make firmware needs: " + "; ".join(needs))
    out = paths.VAR / "build" / f"firmware-{name}"
    out.mkdir(parents=True, exist_ok=True)
    fragment = out / "sdkconfig.partitions"
    fragment.write_text("CONFIG_PARTITION_TABLE_CUSTOM=y\n"
                        f'CONFIG_PARTITION_TABLE_CUSTOM_FILENAME="{found.partitions.resolve()}"\n')
    port = Path(env["MICROPY_DIR"]) / "ports" / "esp32"
    command = ["make", "-C", str(port), f"BOARD_DIR={found.micropython_board.resolve()}", f"BUILD={out / 'build'}",
               f"CMAKE_ARGS=-DMICROPOS_SDKCONFIG_PARTITIONS={fragment}"]
    yield "building: " + " ".join(command)
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-5:]
        raise MicroposError("the MicroPython build failed: " + " | ".join(tail))
    yield f"image: {out / 'build' / 'firmware.bin'} (flash it: make flash BOARD={name} PORT=... FIRMWARE=...)"
