"""The firmware codec (firmware/iso8583.py, on the unix port) against pyiso8583 with the host spec.

Both ways, field by field: what the firmware encodes, pyiso8583 decodes with
``micropos.iso8583.SPEC`` into the same fields (and the host encoder gives the
very same bytes and MAC); what pyiso8583 encodes, the firmware decodes.  One
``micropython`` process does all the firmware work per test, driven by JSON.
"""
from __future__ import annotations

import json
import random
import subprocess

import pytest

import iso8583 as pyiso8583
from micropos import iso8583 as host
from micropos import mac, paths

KSN = "123456789012345600000001"
MAC_KEY = mac.mac_working_key(mac.DEMO_BDK, KSN)

# Runs in MicroPython: {"encode": [{"fields": {de: str}, "mac": bool}], "decode": [hex]} on stdin,
# {"encoded": [hex | {"error"}], "decoded": [{de: str, "64": hex} | {"error"}]} on stdout.
_FIRMWARE_SIDE = r"""
import sys, json
from binascii import hexlify, unhexlify
import iso8583
from cmac import Cmac

job = json.loads(sys.stdin.read())
cmac = Cmac(unhexlify(job["key"]))
out = bytearray(iso8583.MAX_MESSAGE)
msg = iso8583.Message()
encoded = []
for item in job["encode"]:
    msg.clear()
    try:
        for de, value in item["fields"].items():
            msg.set(int(de), unhexlify(value) if de == "64" else value)
        length = msg.encode(out, mac=cmac if item["mac"] else None)
        encoded.append(hexlify(out[:length]).decode())
    except ValueError as exc:
        encoded.append({"error": str(exc)})
decoded = []
for raw in job["decode"]:
    buf = unhexlify(raw)
    try:
        msg.decode(buf, len(buf))
    except iso8583.DecodeError as exc:
        decoded.append({"error": str(exc)})
        continue
    fields = {}
    for de in range(65):
        if msg.has(de):
            value = msg.get(de)
            fields[str(de)] = hexlify(value).decode() if de == 64 else str(bytes(value), "ascii")
    if "64" in fields:
        span, at = iso8583.mac_span(buf, len(buf))
        fields["mac_ok"] = cmac.verify8(span, msg.get(64))
    decoded.append(fields)
print(json.dumps({"encoded": encoded, "decoded": decoded}))
"""

PAN = "6212345678901234"
COMMON = {"41": "TERM0001", "42": "MERCHANT0000001"}
# One request of each kind in protocol.md, plus a response; "t" is the MTI.
MESSAGES = {
    "sale": {"t": "0200", "2": PAN, "3": "000000", "4": "000000001234", "7": "1122093000", "11": "000042",
             "12": "173000", "13": "1122", "14": "2812", "22": "022", "25": "00", **COMMON, "49": "156",
             "53": KSN, "60": "000001"},
    "refund": {"t": "0200", "2": PAN, "3": "200000", "4": "000000000500", "7": "1123101500", "11": "000043",
               "12": "181500", "13": "1123", "14": "2812", "22": "012", "25": "00", "37": "000000123456",
               **COMMON, "49": "156", "53": KSN, "60": "000001", "61": "0000000000001122", "62": "01"},
    "void": {"t": "0200", "2": PAN, "3": "020000", "4": "000000001234", "7": "1122094000", "11": "000044",
             "12": "174000", "13": "1122", "22": "072", "25": "00", "37": "000000123456", **COMMON,
             "49": "156", "53": KSN, "60": "000001", "61": "0000010000421122"},
    "reversal": {"t": "0400", "2": PAN, "3": "020000", "4": "000000001234", "7": "1122094000", "11": "000044",
                 "12": "174000", "13": "1122", "22": "072", "37": "000000123456", "39": "98", **COMMON,
                 "49": "156", "53": KSN, "60": "000001", "61": "0000010000421122"},
    "settlement": {"t": "0500", "3": "920000", "7": "1122093000", "11": "000045", **COMMON, "49": "156",
                   "53": KSN, "60": "000001", "63": "002000000003000001000000000500000000000000000"},
    "echo": {"t": "0800", "3": "990000", "7": "1111093000", "11": "000007", **COMMON},
    "sale response": {"t": "0210", "3": "000000", "4": "000000001234", "7": "1122093000", "11": "000042",
                      "12": "173000", "13": "1122", "37": "000000123456", "38": "  A1B2", "39": "00",
                      **COMMON, "49": "156"},
}
SIGNED = {"sale", "refund", "void", "reversal", "settlement", "sale response"}  # echo carries no DE 64


def run_firmware(job: dict) -> dict:
    job = {"key": MAC_KEY.hex(), "encode": [], "decode": [], **job}
    proc = subprocess.run(
        [str(paths.micropython()), "-X", "heapsize=1m", "-c", _FIRMWARE_SIDE],
        input=json.dumps(job), env=paths.micropython_env(), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _firmware_fields(msg: dict[str, str]) -> dict[str, str]:
    return {("0" if k == "t" else k): v for k, v in msg.items()}


def _random_message(rng: random.Random) -> dict[str, str]:
    """A message with a random subset of the profile's fields, random lengths and contents."""
    alphabets = {
        "n": "0123456789",
        "an": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ",
        "ans": "".join(chr(c) for c in range(0x20, 0x7F)),
    }
    msg = {"t": "".join(rng.choice("0123456789") for _ in range(4))}
    for key, kind in host.CONTENT.items():
        if kind == "b" or rng.random() < 0.4:
            continue
        spec = host.SPEC[key]
        length = spec["max_len"] if spec["len_type"] == 0 else rng.randint(1, spec["max_len"])
        msg[key] = "".join(rng.choice(alphabets[kind]) for _ in range(length))
    return msg


def _random_messages() -> list[dict[str, str]]:
    rng = random.Random(8583)
    return [_random_message(rng) for _ in range(40)]


def test_firmware_encodes_what_pyiso8583_decodes_field_by_field() -> None:
    names = list(MESSAGES)
    randoms = _random_messages()
    jobs = [{"fields": _firmware_fields(MESSAGES[n]), "mac": n in SIGNED} for n in names]
    jobs += [{"fields": _firmware_fields(m), "mac": False} for m in randoms]
    result = run_firmware({"encode": jobs})
    for expected, raw_hex, signed in zip([MESSAGES[n] for n in names] + randoms, result["encoded"],
                                         [n in SIGNED for n in names] + [False] * len(randoms), strict=False):
        assert isinstance(raw_hex, str), (expected, raw_hex)
        raw = bytes.fromhex(raw_hex)
        decoded, _ = pyiso8583.decode(bytearray(raw), host.SPEC)
        got = {k: v for k, v in decoded.items() if k not in ("p", "64")}
        assert got == expected
        assert host.decode(raw) == decoded  # the host's own checks accept it too
        if signed:
            assert raw == host.apply_mac(expected, MAC_KEY)  # same bytes, same MAC
            assert host.verify_mac(raw, MAC_KEY)
        else:
            assert "64" not in decoded
            assert raw == host.encode(expected)


def test_firmware_decodes_what_pyiso8583_encodes_field_by_field() -> None:
    docs = [dict(m) for m in MESSAGES.values()] + _random_messages()
    raws = []
    for doc in docs:
        raw, _ = pyiso8583.encode(dict(doc), host.SPEC)
        raws.append(bytes(raw))
    signed = host.apply_mac(MESSAGES["refund"], MAC_KEY)
    result = run_firmware({"decode": [r.hex() for r in raws] + [signed.hex()]})
    *plain, refund = result["decoded"]
    for doc, got in zip(docs, plain, strict=False):
        assert "error" not in got, (doc, got)
        assert got == _firmware_fields(doc)
    assert refund.pop("mac_ok") is True
    assert refund.pop("64") == signed[-8:].hex()
    assert refund == _firmware_fields(MESSAGES["refund"])


@pytest.mark.parametrize(
    ("raw", "firmware_error"),
    [
        (b"0200", "message of 4 bytes, shorter than MTI and bitmap"),
        (b"0200" + bytes.fromhex("8000000000000000") + bytes(8), "DE 1: secondary bitmap, not in the profile"),
        (b"0200" + bytes.fromhex("1000000000000000") + b"00000000123X",
         "DE 4: byte 0x58 at position 12 is not a digit"),
        (b"0200" + bytes.fromhex("4000000000000000") + b"20" + b"1" * 20, "DE 2: 20 characters, at most 19"),
        (b"0200" + bytes.fromhex("0800000000000000") + b"1", "DE 5: not in the profile"),
        (host.encode(MESSAGES["sale"])[:-3], "DE 60: truncated, 3 of 6 bytes"),
        (host.encode(MESSAGES["echo"]) + b"junk", "4 bytes after the last field"),
    ],
)
def test_both_reject_the_same_malformed_messages(raw: bytes, firmware_error: str) -> None:
    with pytest.raises(host.ProfileError):
        host.decode(raw)
    assert run_firmware({"decode": [raw.hex()]})["decoded"] == [{"error": firmware_error}]


def test_firmware_refuses_what_the_host_encoder_refuses() -> None:
    bad = [{**MESSAGES["sale"], "4": "1234"}, {**MESSAGES["sale"], "2": "1" * 20},
           {**MESSAGES["echo"], "41": "TERM\x01001"}, {**MESSAGES["echo"], "t": "08A0"}]
    for doc in bad:
        with pytest.raises(host.ProfileError):
            host.encode(doc)
    result = run_firmware({"encode": [{"fields": _firmware_fields(d), "mac": False} for d in bad]})
    assert [r["error"] for r in result["encoded"]] == [
        "DE 4: 4 digits, expected 12",
        "DE 2: 20 characters, at most 19",
        "DE 41: byte 0x01 at position 5 is not printable ASCII",
        "MTI: byte 0x41 at position 3 is not a digit",
    ]
