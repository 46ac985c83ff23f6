from __future__ import annotations

from pathlib import Path

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


def test_flash_writes_the_image_at_the_esp32_offset():
    (write,) = esptool_command("esp32_devkitc", "/dev/ttyUSB0", Path("fw.bin"))
    assert write[1:] == ["--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800",
                         "write-flash", "-z", "0x1000", "fw.bin"]
    erase, _ = esptool_command("esp32_devkitc", "/dev/ttyUSB0", Path("fw.bin"), erase=True)
    assert erase[-1] == "erase-flash"


def test_make_flash_without_port_fails_before_anything_runs():
    import subprocess

    from micropos import paths

    proc = subprocess.run(["make", "flash"], cwd=paths.ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "PORT is required" in proc.stderr
