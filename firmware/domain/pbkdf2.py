"""The supervisor password, kept only as a salted PBKDF2-HMAC-SHA256 hash (RFC 8018).

A record is ``ROUNDS$SALT$HASH`` (salt and hash in hex): what the settings
store keeps, never the password.  MicroPython's ``hashlib`` has SHA-256 but
neither HMAC nor PBKDF2, so both are here, on the device's own SHA-256.

2,000 rounds: a check takes about 5 ms on the unix port on this host; an
ESP32 at 240 MHz runs MicroPython bytecode 30 to 50 times slower and hashes
a SHA-256 block in its C library in about 20 µs, so a round (four short
hashes and an XOR) costs about 100 µs there, and a check about 0.2 s: slow
for a guesser with the stored record, unnoticed by a supervisor.
"""
from micropython import const
import binascii
import hashlib
import os

_ROUNDS = const(2000)
_BLOCK = const(64)  # SHA-256's block size, the HMAC key's length


def _derive(password, salt, rounds):
    key = password.encode()
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key += bytes(_BLOCK - len(key))
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    block = salt + b"\x00\x00\x00\x01"  # the first (and only) 32-byte block of the output
    out = 0
    for _ in range(rounds):
        h = hashlib.sha256(inner)
        h.update(block)
        h = hashlib.sha256(outer + h.digest())
        block = h.digest()
        out ^= int.from_bytes(block, "big")
    return out.to_bytes(32, "big")


def make(password):
    """A new record for ``password``, with a fresh random salt."""
    salt = os.urandom(16)
    return "$".join((str(_ROUNDS), binascii.hexlify(salt).decode(),
                     binascii.hexlify(_derive(password, salt, _ROUNDS)).decode()))


def check(password, record):
    """Whether ``password`` is the one ``record`` was made from (False for a record that is not one)."""
    parts = record.split("$")
    if len(parts) != 3:
        return False
    try:
        expected = binascii.unhexlify(parts[2])
        got = _derive(password, binascii.unhexlify(parts[1]), int(parts[0]))
    except ValueError:
        return False
    diff = len(got) ^ len(expected)
    for i in range(min(len(got), len(expected))):  # the same time however early they differ
        diff |= got[i] ^ expected[i]
    return diff == 0
