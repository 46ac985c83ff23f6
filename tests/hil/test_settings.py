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


def _change_password(terminal, old, new, again):
    terminal.press("FUNC", "7", "2")
    terminal.expect("Supervisor pwd")
    terminal.press(*old, "ENTER")
    terminal.expect("New password")
    terminal.press(*new, "ENTER")
    terminal.expect("New pwd again")
    terminal.press(*again, "ENTER")


def _password_opens_refund(terminal, password) -> bool:
    terminal.press("FUNC", "3", *password, "ENTER")
    screen = terminal.expect(("Swipe card", "Wrong password", "Locked "))
    terminal.press("CANCEL", "CANCEL")
    terminal.expect("FUNC: menu")
    return "Swipe card" in screen


def test_two_new_passwords_that_differ_change_nothing(terminal):
    _change_password(terminal, "123456", "654321", "654322")
    assert terminal.expect("Not the same: nothing changed")
    terminal.press("CANCEL")
    assert _password_opens_refund(terminal, "123456")


def test_a_new_password_must_have_six_digits(terminal):
    terminal.press("FUNC", "7", "2", *"123456", "ENTER")
    terminal.expect("New password")
    terminal.press(*"12345", "ENTER")
    terminal.expect("Too short")


def _settings_file(image):
    """The settings file as the emulator's LittleFS partition holds it (littlefs-python reads the image)."""
    from littlefs import LittleFS

    from micropos.boards import BLOCK_SIZE, EMULATOR

    data = image.read_bytes()[:EMULATOR.vfs_blocks * BLOCK_SIZE]
    fs = LittleFS(block_size=BLOCK_SIZE, block_count=EMULATOR.vfs_blocks, mount=False)
    fs.context.buffer = bytearray(data)
    fs.mount()
    with fs.open("settings", "r") as f:
        return f.read()


@pytest.mark.emulator_only
def test_a_new_password_replaces_the_old_one_is_never_stored_and_outlives_a_reboot(terminal, reboot, tmp_path):
    _change_password(terminal, "123456", "654321", "654321")
    terminal.expect("Password changed")
    terminal.press("CANCEL")
    terminal = reboot(terminal)
    assert _password_opens_refund(terminal, "654321")
    assert not _password_opens_refund(terminal, "123456")
    stored = _settings_file(tmp_path / "flash.img")
    assert "654321" not in stored and "123456" not in stored
    assert "supervisor_password=2000$" in stored, "a PBKDF2 record: rounds, salt, hash"


@pytest.mark.emulator_only
def test_wrong_tries_and_the_lock_survive_reboots(terminal, reboot):
    assert not _password_opens_refund(terminal, "111111")
    assert not _password_opens_refund(terminal, "222222")
    terminal = reboot(terminal)
    terminal.press("FUNC", "3", *"333333", "ENTER")
    terminal.expect("Locked 5 min")  # two before the reboot and one after: locked
    terminal.press("CANCEL")
    terminal = reboot(terminal)
    terminal.press("FUNC", "3")
    terminal.expect("Locked 5 min")  # a reboot starts the whole lock again
    terminal.press("CANCEL", "FUNC", "7", "2")
    terminal.expect("Locked 5 min")  # the password change is a supervisor function too
