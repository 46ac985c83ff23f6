"""The firmware as a ROMFS image: the bytecode a board runs in place from flash.

Imported from a ROMFS, a module's bytecode and constant strings are used
where they lie instead of being copied into the heap, as frozen modules are:
the emulator's heap then holds what the firmware allocates, not its code.
The image format is MicroPython's own, written by mpremote's writer; on a
board whose MicroPython has ROMFS, ``mpremote romfs deploy`` installs such
an image.
"""
from __future__ import annotations

import os
from pathlib import Path

from mpremote.romfs import VfsRomWriter

from micropos import build


def image(files: list[Path]) -> bytes:
    """A flat ROMFS holding ``files`` (compiled .mpy, and any data files) by their names."""
    writer = VfsRomWriter()
    for path in sorted(files, key=lambda p: p.name):
        writer.mkfile(path.name, path.read_bytes())
    data: bytes = writer.finalise()
    return data


def build_image(board: str, stage: Path) -> Path:
    """Compiles the firmware for ``board`` into ``stage``/mpy and writes ``stage``/firmware.romfs.

    The image holds the modules and the data files (the glyph file); ``main.py``
    is left out: the host starts the app itself.  The compiled
    files sit in a folder of their own so that a unix port started in
    ``stage`` cannot import them from its current folder instead of the ROMFS.
    """
    files = [f for f in build.compile_tree(board, stage / "mpy") if f.suffix in (".mpy", ".bin")]
    target = stage / "firmware.romfs"
    data = image(files)
    if not target.exists() or target.read_bytes() != data:
        scratch = target.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(data)
        scratch.replace(target)
    return target
