"""Every word key the firmware asks for exists in both languages, so no raw key ever reaches paper or screen.

``words.lookup`` shows a missing key as itself ("reason_98" on a receipt was
issue 13's example).  The keys asked for by a literal (``t("amount")``,
``_w("voucher")``, ``words.lookup(language, "net")``) are read from the
firmware's source; those made up at run time are listed from their tables:
every response code of the protocol, every status, every refund reason,
every message kind's name.
"""
from __future__ import annotations

import ast
import re

import pytest

from micropos import paths, tables

FIRMWARE = paths.ROOT / "firmware"
LOOKUPS = {"t", "_w", "lookup"}  # the functions that take a words key (lookup's is its last argument)
BRAND = {"title"}  # MICROPOS: the same in every language


def _words(language: str) -> dict[str, str]:
    source = (FIRMWARE / "words" / f"lang_{language}.py").read_text()
    match = re.search(r'WORDS = """(.*?)"""', source, re.S)
    assert match, language
    return dict(line.split("=", 1) for line in match[1].splitlines() if "=" in line)


def _literal_keys() -> dict[str, str]:
    """Each key passed as a literal to a lookup, with where."""
    found: dict[str, str] = {}
    for path in FIRMWARE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            arg = node.args[-1]
            if name in LOOKUPS and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(arg.value, f"{path.relative_to(paths.ROOT)}:{node.lineno}")
    return found


def _made_keys() -> set[str]:
    """The keys the firmware makes at run time ("rc_%s", "status_%d", "reason_%d", a kind's name)."""
    codes = {"00", "03", "05", "12", "13", "14", "25", "30", "54", "58", "64", "94", "95", "96", "A0"}
    made = {f"rc_{code}" for code in codes} | {"rc_other"}
    made |= {f"status_{n}" for n in range(6)}  # PENDING..REVERSED, and 5: VOIDED (a screen's word)
    made |= {f"reason_{n}" for n in range(1, 5)}
    made |= {name.lower() for name in tables.kind_names().values() if name not in ("ECHO", "UPLOAD", "UPLOAD_END")}
    return made


def test_both_languages_have_the_same_keys():
    en, zh = _words("en"), _words("zh")
    assert set(zh) - set(en) == set(), "a 中文 key English lacks"
    assert set(en) - set(zh) == BRAND, "an English key 中文 lacks (it would show in English)"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_key_the_firmware_asks_for_has_words(language):
    words = _words(language) if language == "en" else {**_words("en"), **_words(language)}
    literal = _literal_keys()
    assert len(literal) > 50, "the scan found the firmware's lookups"
    missing = {key: where for key, where in literal.items() if key not in words and "%" not in key}
    missing |= {key: "made at run time" for key in _made_keys() if key not in words}
    assert not missing, f"no words for: {missing}"
