"""Runs the unix port with a ROMFS image mapped into its address space, as a board maps its flash.

On an ESP32 the flash holding a ROMFS partition is mapped into the CPU's
address space and MicroPython runs bytecode straight from it.  The unix port
has no flash, so this launcher maps the image file (copy-on-write, so the
file itself is never changed), hands its address and length to the firmware
in MICROPOS_ROM=ADDRESS:LENGTH and then runs the unix port in this same
process, as the ``micropython`` command installed by pip does.  The image
therefore lies outside the MicroPython heap, where a board's flash is.

    python -m micropos.romport IMAGE [micropython arguments...]
"""
from __future__ import annotations

import ctypes
import mmap
import os
import sys

# The firmware's first lines on the emulator: what a board with ROMFS does at
# power-on, mounting the image at /rom (MICROPYPATH puts /rom first on sys.path).
# (No variable of its own: every name costs the firmware's heap a qstr for good.)
MOUNT_ROM = (
    "import os, uctypes, vfs\n"
    "vfs.mount(vfs.VfsRom(uctypes.bytearray_at(*[int(n) for n in os.getenv('MICROPOS_ROM').split(':')])), '/rom')\n"
)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m micropos.romport IMAGE [micropython arguments...]", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        rom = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    address = ctypes.addressof(ctypes.c_char.from_buffer(rom))
    os.environ["MICROPOS_ROM"] = f"{address}:{len(rom)}"

    from micropython_unix import run_main  # the unix port, built as a CPython extension

    # ``rom`` stays referenced (and mapped) until the unix port returns.
    status: int = run_main(["micropython", *argv[2:]])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
