"""The emulator's firmware image: built as a ROMFS, mapped outside the heap, imported from /rom."""
from __future__ import annotations

import os
import subprocess
import sys

from micropos import romfs
from micropos.romport import MOUNT_ROM

PROBE = """
import gc, sys
import app, journal
print(app.__file__, journal.__file__, sorted(n for n in __import__('os').listdir('/rom'))[:3])
"""


def test_the_emulator_imports_the_firmware_from_the_mapped_romfs(tmp_path):
    image = romfs.build_image("emulator", tmp_path / "stage")
    env = dict(os.environ, MICROPYPATH="/rom:.frozen")
    proc = subprocess.run([sys.executable, "-m", "micropos.romport", str(image), "-X", "heapsize=64k",
                           "-c", MOUNT_ROM + PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[:2] == ["/rom/app.mpy", "/rom/journal.mpy"]
    assert "'app.mpy'" in proc.stdout


def test_the_image_is_rebuilt_only_when_the_firmware_changes(tmp_path):
    first = romfs.build_image("emulator", tmp_path)
    stamp = first.stat().st_mtime_ns
    again = romfs.build_image("emulator", tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert first.read_bytes().startswith(b"\xd2\xcd\x31"), "MicroPython's ROMFS header"


def test_romport_without_an_image_says_how_to_call_it():
    proc = subprocess.run([sys.executable, "-m", "micropos.romport"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "usage: python -m micropos.romport IMAGE" in proc.stderr
