"""Where the parts of a micropos checkout are, and how to start the unix port on them."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from micropos.errors import SetupError

# host/micropos/paths.py -> the checkout's root; MICROPOS_ROOT overrides it.
ROOT = Path(os.environ.get("MICROPOS_ROOT", Path(__file__).resolve().parents[2]))
FIRMWARE = ROOT / "firmware"
BOARDS = ROOT / "boards"
VAR = ROOT / "var"

#: The firmware's layers, lowest first, each a folder of ``firmware/``: a module
#: imports from its own layer and the ones below, never above
#: (docs/architecture.md). ``main.py`` sits above them all, at the top.
FIRMWARE_LAYERS = ("domain", "words", "drivers", "protocol", "store", "send", "ui", "flows", "app")


def firmware_folders() -> list[Path]:
    """The layer folders, lowest first; on a board their modules sit side by side."""
    return [FIRMWARE / layer for layer in FIRMWARE_LAYERS]


def micropython() -> Path:
    """The unix-port ``micropython`` installed beside this Python."""
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return beside
    found = shutil.which("micropython")
    if found is None:
        raise SetupError("micropython (the unix port) is not installed: run 'make test' or 'make run' to set up")
    return Path(found)


def micropython_env(extra: list[Path] | None = None) -> dict[str, str]:
    """Environment for a unix-port process that imports the firmware and the boards."""
    path = [*(str(p) for p in extra or []), *(str(p) for p in firmware_folders()), str(FIRMWARE), str(BOARDS),
            ".frozen"]
    from micropos.boards import EMULATOR  # the emulator board's flash layout, for scripts that import it

    env = dict(os.environ)
    env.update(EMULATOR.env())
    env["MICROPYPATH"] = os.pathsep.join(path)
    return env
