"""The terminal at rest and its menu, as a person at the keypad sees them.

Runs on the emulator by default and unchanged on a board with --port.
"""
import re

import pytest

MENU = ("MENU", "1 SALE", "2 VOID", "3 REFUND", "4 HISTORY", "5 SETTLEMENT", "6 REPRINT", "7 SETTINGS")


def test_idle_shows_terminal_date_time_and_menu_hint(terminal):
    screen = terminal.expect("FUNC: menu")
    assert "TERM0001" in screen
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d", row) for row in screen)
    assert any(re.fullmatch(r"\d\d:\d\d", row) for row in screen)


def test_func_opens_the_menu(terminal):
    terminal.press("FUNC")
    assert terminal.expect("MENU") == MENU


@pytest.mark.parametrize("digit, title, first", [
    ("1", "SALE", "Amount"), ("2", "VOID", "Supervisor pwd"), ("3", "REFUND", "Supervisor pwd"),
    ("4", "HISTORY", "HISTORY"), ("5", "SETTLEMENT", "ENTER: settle"), ("7", "SETTINGS", "1 Language")])
def test_each_menu_entry_opens_its_first_step_and_cancel_leaves_it(terminal, digit, title, first):
    terminal.press("FUNC", digit)
    screen = terminal.settle()
    assert screen[0].startswith(title) and first in "\n".join(screen)
    terminal.press("CANCEL")
    terminal.expect("FUNC: menu")


def test_cancel_returns_to_idle(terminal):
    terminal.press("FUNC")
    terminal.expect("MENU")
    terminal.press("CANCEL")
    terminal.expect("FUNC: menu")


def test_keys_that_mean_nothing_on_a_screen_change_nothing(terminal):
    terminal.press("FUNC", "9", "UP", "ENTER")
    assert terminal.settle() == MENU
    terminal.press("CANCEL")
    terminal.expect("FUNC: menu")
    # The idle screen shows the time: a minute turning over redraws it under the same
    # title, which no key caused.  Any other screen in between would still show here.
    titles = [screen[0] for screen in terminal.screens]
    assert [t for i, t in enumerate(titles) if i == 0 or t != titles[i - 1]] == ["MICROPOS", "MENU", "MICROPOS"]


def test_keys_typed_ahead_are_kept(terminal):
    terminal.press("FUNC", "CANCEL", "FUNC", "CANCEL", "FUNC")
    assert terminal.settle() == MENU
    titles = [screen[0] for screen in terminal.screens]
    assert titles.count("MENU") == 3


def test_idle_timeout_returns_to_idle(terminal):
    terminal.set("idle_timeout_s", 2)
    terminal.press("FUNC")
    terminal.expect("MENU")
    terminal.expect("FUNC: menu", timeout=6)


def test_screenshot_shows_the_menu_title_inverted(terminal, tmp_path):
    from micropos.screenshot import to_rows

    terminal.press("FUNC")
    terminal.expect("MENU")
    pixels = terminal.pixels()
    rows = to_rows(pixels)
    title_band = sum(sum(row) for row in rows[0:8])
    body = sum(sum(row) for row in rows[8:64])
    assert title_band > 128 * 8 // 2, "the title row is drawn light on dark"
    assert 0 < body < 128 * 56 // 2
    png = terminal.screenshot(tmp_path / "menu.png")
    assert png.stat().st_size > 100


def test_unknown_host_command_is_refused_in_words(terminal):
    from micropos.errors import LinkError

    with pytest.raises(LinkError, match="refused 'frobnicate': unknown command 'frobnicate'"):
        terminal._request("frobnicate", "ok", 5)
    with pytest.raises(LinkError, match="unknown setting 'colour'"):
        terminal.set("colour", "blue")


@pytest.mark.emulator_only
def test_the_flash_image_is_a_file_of_4k_blocks_whose_writes_are_counted(terminal, tmp_path):
    image = tmp_path / "flash.img"
    assert image.stat().st_size == 128 * 4096
    import time

    counters = terminal.flash_counters()
    assert set(counters) == {"reads", "programs", "program_bytes", "erases"}
    assert counters["programs"] > 0, "the first boot formats the settings' LittleFS partition"
    time.sleep(1.5)  # a tick or two of the idle screen
    assert terminal.flash_counters() == counters, "idle writes nothing"
