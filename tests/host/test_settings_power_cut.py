"""The language chosen at the keypad, cut off by the power at every flash write of its saving.

The settings are a LittleFS file replaced in one rename (``firmware/store/prefs.py``).
For each program and erase that choosing 中文 causes, the emulator loses power
there (the write dropped, then half-applied) and boots again on the same flash:
the terminal must come up in one language or the other, never neither, and a
new choice must then be saved and kept.
"""
from __future__ import annotations

import shutil

import pytest
from conftest import boot

from micropos.errors import LinkError
from micropos.terminal import Terminal

IDLE = ("FUNC: menu", "FUNC:菜单")


def test_every_cut_point_of_a_language_change_leaves_one_language_and_a_working_terminal(tmp_path, capsys):
    before = tmp_path / "before.img"
    with boot(before) as term:  # the first boot formats the settings' partition
        term.expect("FUNC: menu")

    measured = tmp_path / "measured.img"
    shutil.copyfile(before, measured)
    with boot(measured) as term:
        start = term.flash_counters()
        term.press("FUNC", "7", "1", "2")
        term.expect("FUNC:菜单")
        end = term.flash_counters()
    writes = (end["programs"] + end["erases"]) - (start["programs"] + start["erases"])
    assert writes >= 2, "a new file written, then renamed over the old"

    cases = [(n, half) for n in range(1, writes + 1) for half in (False, True)]
    for n, half in cases:
        where = f"cut at write {n}{' (half-applied)' if half else ''}"
        image = tmp_path / f"cut{n}{'h' if half else ''}.img"
        shutil.copyfile(before, image)
        term = boot(image, cut=(n, half))
        with pytest.raises(LinkError):  # the power fails at write n: the emulator dies while saving
            term.press("FUNC", "7", "1", "2")
            term.expect("the power never came back", 10)
        term.close()
        with boot(image) as term:
            assert term.expect(IDLE)[-1] in IDLE, where
            term.press("FUNC", "7", "1", "2")
            term.expect("FUNC:菜单")
        with boot(image) as term:
            assert term.expect(IDLE)[-1] == "FUNC:菜单", f"{where}: the next choice was not kept"
    with capsys.disabled():
        print(f"\npower-cut sweep, a language change: {len(cases)} cut points ({writes} flash writes, each dropped "
              "and half-applied), every boot in one language, the next choice kept")


def _opens_refund(term: Terminal, password: str) -> bool:
    term.press("FUNC", "3", *password, "ENTER")
    screen = term.expect(("Swipe card", "Wrong password"))
    term.press("CANCEL", "CANCEL")
    term.expect("FUNC: menu")
    return "Swipe card" in screen


CHANGE = ("FUNC", "7", "2", *"123456", "ENTER", *"654321", "ENTER", *"654321", "ENTER")


def test_every_cut_point_of_a_password_change_leaves_the_old_or_the_new_password(tmp_path, capsys):
    before = tmp_path / "before.img"
    with boot(before) as term:
        term.expect("FUNC: menu")

    measured = tmp_path / "measured.img"
    shutil.copyfile(before, measured)
    with boot(measured) as term:
        start = term.flash_counters()
        term.press(*CHANGE)
        term.expect("Password changed")
        end = term.flash_counters()
    writes = (end["programs"] + end["erases"]) - (start["programs"] + start["erases"])
    assert writes >= 2

    cases = [(n, half) for n in range(1, writes + 1) for half in (False, True)]
    kept = {"old": 0, "new": 0}
    for n, half in cases:
        where = f"cut at write {n}{' (half-applied)' if half else ''}"
        image = tmp_path / f"cut{n}{'h' if half else ''}.img"
        shutil.copyfile(before, image)
        term = boot(image, cut=(n, half))
        with pytest.raises(LinkError):
            term.press(*CHANGE)
            term.expect("the power never came back", 10)
        term.close()
        with boot(image) as term:
            old, new = _opens_refund(term, "123456"), _opens_refund(term, "654321")
        assert old != new, f"{where}: old opens {old}, new opens {new}"
        kept["old" if old else "new"] += 1
    with capsys.disabled():
        print(f"\npower-cut sweep, a password change: {len(cases)} cut points ({writes} flash writes, each dropped and "
              f"half-applied): the old password after {kept['old']}, the new one after {kept['new']}, never neither")
