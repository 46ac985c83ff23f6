from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from micropos import flashing, partition_table, paths
from micropos.boards import BOARDS
from micropos.errors import SetupError
from micropos.flashing import esptool_command


def test_flash_without_an_image_says_what_is_missing(micropos_cli):
    proc = micropos_cli("flash", "--board", "esp32_devkitc", "--port", "/dev/ttyUSB9")
    assert proc.returncode == 1
    assert proc.stderr.startswith("micropos: FIRMWARE=... is required")


def test_flash_to_a_missing_port_says_so(tmp_path, micropos_cli):
    image = tmp_path / "fw.bin"
    image.write_bytes(b"\xe9" + bytes(100))
    proc = micropos_cli("flash", "--port", "/dev/ttyUSB9", "--firmware", str(image))
    assert proc.returncode == 1
    assert "no serial port /dev/ttyUSB9" in proc.stderr


def test_flash_writes_the_image_at_the_esp32_offset_then_the_partition_table():
    image, table = esptool_command("esp32_devkitc", "/dev/ttyUSB0", Path("fw.bin"), table=Path("partitions.bin"))
    base = ["--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800"]
    assert image[1:] == [*base, "--after", "no-reset", "write-flash", "-z", "0x1000", "fw.bin"]
    assert table[1:] == [*base, "write-flash", "-z", "0x8000", "partitions.bin"]
    erase, _, _ = esptool_command("esp32_devkitc", "/dev/ttyUSB0", Path("fw.bin"), erase=True)
    assert erase[-1] == "erase-flash"


def test_every_flashable_board_has_a_partition_table_and_a_board_file():
    flashable = [b for b in BOARDS.values() if b.chip]
    assert flashable
    for board in flashable:
        assert board.partitions is not None and board.partitions.is_file(), board.name
        assert board.image_offset is not None
    for board in BOARDS.values():
        assert (paths.BOARDS / f"{board.name}.py").is_file(), board.name


def test_the_emulator_has_no_flashing_recipe():
    with pytest.raises(SetupError, match="no flashing recipe for board 'emulator'"):
        esptool_command("emulator", "/dev/ttyUSB0", Path("fw.bin"))


def test_flash_writes_the_table_it_flashes(tmp_path, monkeypatch):
    image = tmp_path / "fw.bin"
    image.write_bytes(b"\xe9" + bytes(100))
    port = tmp_path / "ttyUSB0"
    port.touch()
    monkeypatch.setattr(paths, "VAR", tmp_path / "var")
    runs: list[list[str]] = []
    monkeypatch.setattr(flashing.subprocess, "run",
                        lambda command, **kw: runs.append(command) or subprocess.CompletedProcess(command, 0))
    flashing.flash("esp32_devkitc", str(port), image)
    assert [run[-2:] for run in runs] == [["0x1000", str(image)],
                                          ["0x8000", str(tmp_path / "var" / "build" / "esp32_devkitc_partitions.bin")]]
    journal = partition_table.find(partition_table.decode(Path(runs[-1][-1]).read_bytes()), "journal")
    assert journal is not None and (journal.offset, journal.size) == (0x3C0000, 0x40000)


def test_esptool_accepts_both_writes(tmp_path):
    # A real-sized image covers 0x8000; each run must get past esptool's own
    # argument checks (no overlap, known options) and fail only at the port.
    image = tmp_path / "fw.bin"
    image.write_bytes(b"\xff" * 0x1A0000)
    table = partition_table.write(BOARDS["esp32_devkitc"].partitions, tmp_path / "partitions.bin")
    for command in esptool_command("esp32_devkitc", str(tmp_path / "no-such-port"), image, table=table):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert "Could not open" in out and "Usage" not in out, out


def test_make_flash_without_port_fails_before_anything_runs():
    import subprocess

    from micropos import paths

    proc = subprocess.run(["make", "flash"], cwd=paths.ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "PORT is required" in proc.stderr
