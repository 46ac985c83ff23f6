"""The facts the firmware and the host share: one table each, and the rules each side keeps agree.

The host reads the message kinds, the field profile, the currencies and the
key names from the firmware's source (``micropos.tables``); the Luhn check
exists once per side, and the two are run here on the same card numbers.
"""
from __future__ import annotations

import json
import random
import subprocess

from micropos import iso8583, paths, tables
from micropos.acquirer import rules
from micropos.journal_format import TYPE_NAMES
from micropos.terminal import KEY_NAMES

_FIRMWARE_SIDE = """
import sys, json, card, keys, kinds, money
pans = json.loads(sys.stdin.read())
print(json.dumps({
    "luhn": [card.luhn_ok(p) for p in pans],
    "keys": [keys.NAMES[i] for i in range(16)],
    "kinds": [kinds.type_name(k) for k in range(1, 7)],
    "money": [money.money(123456, c) for c in (156, 392, 48, 999)],
}))
"""


def _firmware(pans: list[str]) -> dict:
    proc = subprocess.run([str(paths.micropython()), "-c", _FIRMWARE_SIDE], input=json.dumps(pans),
                          env=paths.micropython_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _pans() -> list[str]:
    rng = random.Random(8583)
    pans = ["4111111111111111", "6212345678901232", "5555555555554444", "4111111111111112", "79927398713"]
    for _ in range(300):
        pans.append("".join(rng.choice("0123456789") for _ in range(rng.randint(12, 19))))
    return pans


def test_the_luhn_check_agrees_on_both_sides():
    pans = _pans()
    firmware = _firmware(pans)
    host = [rules.luhn_ok(p) for p in pans]
    assert firmware["luhn"] == host
    assert 20 < sum(host) < 280, "the sample holds valid and invalid numbers"


def test_the_host_reads_key_names_kinds_and_currencies_from_the_firmware():
    firmware = _firmware([])
    assert list(KEY_NAMES) == firmware["keys"]
    assert [TYPE_NAMES[k] for k in range(1, 7)] == firmware["kinds"]
    assert firmware["money"] == ["1234.56", "123456", "123.456", "1234.56"]
    assert [tables.exponent(c) for c in (156, 392, 48, 999)] == [2, 0, 3, 2]


def test_the_acquirer_requires_what_the_terminal_always_sends():
    for kind in tables.message_kinds():
        for code in [kind.processing_code] if kind.processing_code else [rules.PC_SALE, rules.PC_REFUND]:
            required = rules.REQUIRED[(kind.mti, code)]
            assert set(required) <= {str(de) for de in kind.fields}, kind.name
            assert {str(de) for de in kind.optional}.isdisjoint(required), kind.name
    assert "2" not in rules.REQUIRED[("0200", rules.PC_REFUND)], "a refund may come without a card"


def test_the_host_codec_spec_is_the_firmware_profile():
    assert [k for k in iso8583.SPEC if k.isdigit()] == [str(f.number) for f in tables.profile() if f.number]
    assert iso8583.SPEC["2"]["len_type"] == 2 and iso8583.SPEC["61"]["len_type"] == 3
    assert iso8583.SPEC["64"]["data_enc"] == "b" and iso8583.CONTENT["37"] == "an"
