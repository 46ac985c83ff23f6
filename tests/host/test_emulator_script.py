"""``micropos emulator --script``: the documented command language, end to end."""
from __future__ import annotations

import pytest

from micropos.emulator_script import ScriptError, ScriptRunner, parse
from micropos.errors import LinkError

MENU_BLOCK = "MENU\n1 SALE\n2 VOID\n3 REFUND\n4 HISTORY\n5 SETTLEMENT\n6 REPRINT\n7 SETTINGS\n----\n"


def test_key_func_prints_the_menu_as_text_rows(tmp_path, micropos_cli):
    script = tmp_path / "menu.txt"
    script.write_text("key FUNC\nwait MENU\n")
    proc = micropos_cli("emulator", "--flash", str(tmp_path / "f.img"), "--script", str(script))
    assert proc.returncode == 0, proc.stderr
    assert MENU_BLOCK in proc.stdout
    assert proc.stdout.startswith("MICROPOS\nTERM0001\n")


def test_a_wait_that_never_matches_exits_non_zero_showing_the_last_screen(tmp_path, micropos_cli):
    script = tmp_path / "never.txt"
    script.write_text("key FUNC\nwait NO SUCH TEXT 1\n")
    proc = micropos_cli("emulator", "--flash", str(tmp_path / "f.img"), "--script", str(script))
    assert proc.returncode != 0
    assert "'NO SUCH TEXT' not shown within 1 s" in proc.stderr
    assert "|7 SETTINGS" in proc.stderr


def test_screenshot_power_cut_and_boot(tmp_path, micropos_cli):
    shot = tmp_path / "menu.png"
    script = tmp_path / "s.txt"
    script.write_text(f"key FUNC\nwait MENU\nscreenshot {shot}\npower-cut\nboot\nwait FUNC: menu\n")
    proc = micropos_cli("emulator", "--flash", str(tmp_path / "f.img"), "--script", str(script))
    assert proc.returncode == 0, proc.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert proc.stdout.count("FUNC: menu\n----") == 2


def test_keys_after_a_power_cut_are_an_error_in_words(tmp_path, micropos_cli):
    script = tmp_path / "s.txt"
    script.write_text("power-cut\nkey FUNC\n")
    proc = micropos_cli("emulator", "--flash", str(tmp_path / "f.img"), "--script", str(script))
    assert proc.returncode == 1
    assert "line 2: 'key' while the power is off (use 'boot')" in proc.stderr


@pytest.mark.parametrize("line, message", [
    ("press FUNC", "unknown command 'press'"),
    ("key", "'key' needs at least one key name"),
    ("key ESC", "unknown key 'ESC'"),
    ("card 4111111111111111", "'card' takes PAN=YYMM"),
    ("wait", "'wait' needs the text"),
    ("sleep soon", "expected seconds, got 'soon'"),
    ("sleep -1", "seconds cannot be negative"),
    ("screenshot", "'screenshot' needs a file name"),
])
def test_bad_lines_are_refused_with_their_line_number(line, message):
    with pytest.raises(ScriptError) as info:
        parse(["# comment", "", line], source="s.txt")
    assert str(info.value).startswith("s.txt:3: ")
    assert message in str(info.value)


@pytest.mark.parametrize("line, text, seconds", [
    ("wait APPROVED", "APPROVED", 10.0),
    ("wait ORIGINAL NOT FOUND 30", "ORIGINAL NOT FOUND", 30.0),
    ("wait 12.34", "12.34", 10.0),
    ("wait 12.34 5", "12.34", 5.0),
])
def test_wait_takes_text_with_spaces_and_optional_seconds(line, text, seconds):
    (step,) = parse([line])
    assert step.args == [text, str(seconds)]


def test_a_missing_script_is_one_clear_line(tmp_path, micropos_cli):
    proc = micropos_cli("emulator", "--script", str(tmp_path / "nope.txt"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("micropos: cannot read script")
    assert "Traceback" not in proc.stderr


class _StoppedFirmware:
    """A terminal whose firmware handled the keys, then stopped (out of memory, say)."""

    def __init__(self) -> None:
        self.pressed: list[str] = []

    def press(self, *names: str) -> None:
        self.pressed.extend(names)

    def alive(self, timeout: float = 10.0) -> None:
        raise LinkError("the emulator has exited (code 1); the firmware said: MemoryError: memory allocation failed")

    def close(self) -> None:
        pass


def test_a_firmware_that_stopped_after_the_last_line_fails_the_run_saying_why():
    terminal = _StoppedFirmware()
    runner = ScriptRunner(lambda: terminal)  # type: ignore[arg-type, return-value]
    with pytest.raises(LinkError, match="the firmware said: MemoryError"):
        runner.run(parse(["key FUNC 4"]))
    assert terminal.pressed == ["FUNC", "4"]
