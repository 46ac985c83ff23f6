"""Settings (FUNC 7): the screen language, chosen at the keypad and kept across power cuts.

Runs on the emulator by default and unchanged on a board with --port
(the reboot tests need the emulator).
"""
import pytest


@pytest.fixture(autouse=True)
def english_again(terminal):
    """A board keeps its language from one test to the next: each test here starts and ends in English."""
    if "FUNC:菜单" in terminal.expect(("FUNC: menu", "FUNC:菜单")):
        terminal.press("FUNC", "7", "1", "1")
        terminal.expect("FUNC: menu")
    yield
    try:
        terminal.press("CANCEL", "CANCEL", "FUNC", "7", "1", "1")
        terminal.expect("FUNC: menu")
    except Exception:  # noqa: BLE001 - a terminal the test rebooted or lost: nothing to restore on it
        pass


def _choose(terminal, digit):
    terminal.press("FUNC", "7", "1")
    terminal.expect("2 中文")
    terminal.press(digit)


def test_each_language_is_labelled_in_its_own_language_in_both_languages(terminal):
    terminal.press("FUNC", "7")
    assert terminal.settle()[:2] == ("SETTINGS", "1 Language")
    terminal.press("1")
    assert terminal.expect("2 中文")[:3] == ("Language", "1 English", "2 中文")
    terminal.press("2")
    terminal.expect("FUNC:菜单")
    terminal.press("FUNC", "7")
    assert terminal.settle()[:2] == ("设置", "1 语言")
    terminal.press("1")
    assert terminal.expect("2 中文")[:3] == ("语言", "1 English", "2 中文")
    terminal.press("1")
    terminal.expect("FUNC: menu")


def test_the_chinese_menu_fits_the_panel_in_two_columns(terminal):
    _choose(terminal, "2")
    terminal.expect("FUNC:菜单")
    terminal.press("FUNC")
    screen = terminal.settle()
    assert screen[1].startswith("1 消费") and screen[1].endswith("5 结算")
    assert screen[4] == "4 交易查询"
    assert not terminal.clipped


@pytest.mark.emulator_only
def test_the_language_survives_a_power_cut(terminal, reboot):
    _choose(terminal, "2")
    terminal.expect("FUNC:菜单")
    terminal = reboot(terminal)
    terminal.expect("FUNC:菜单")
    terminal.press("FUNC", "3")
    terminal.expect("主管密码")


def test_chinese_is_drawn_with_the_glyph_files_bitmaps(terminal):
    from micropos.font import GlyphFile
    from micropos.screenshot import to_rows

    _choose(terminal, "2")
    terminal.expect("FUNC:菜单")
    terminal.press("FUNC", "3")
    assert terminal.settle()[0] == "退货"
    panel = to_rows(terminal.pixels())
    glyph = GlyphFile.load().pixels("退")
    assert glyph is not None
    # the title row is drawn light on dark: the glyph's pixels are the dark ones
    assert [[not lit for lit in row[:12]] for row in panel[:12]] == glyph
