"""Host-side message authentication: AES DUKPT key derivation and AES-CMAC.

The terminal holds only its DUKPT initial key; the acquirer holds the base
derivation key (BDK) and derives, for every message, the working key of the
key serial number (KSN) the message carries in DE 53. This module is the
acquirer's half of ANSI X9.24-3-2017 (AES DUKPT) plus the MAC rule of the
micropos-8583 profile: the first 8 bytes of AES-128-CMAC (NIST SP 800-38B).

A KSN is 12 bytes: the 8-byte initial key ID (a 4-byte BDK ID followed by a
4-byte derivation ID) and a 4-byte big-endian transaction counter. On the
wire it is 24 ASCII hex digits.
"""
from __future__ import annotations

import hmac
from enum import IntEnum
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from micropos.errors import MicroposError

#: The ANSI X9.24-3-2017 test BDK that the demo terminal's initial key comes from.
DEMO_BDK = bytes.fromhex("FEDCBA9876543210F1F1F1F1F1F1F1F1")
#: The demo terminal's initial key ID (BDK ID 12345678, derivation ID 90123456).
DEMO_INITIAL_KEY_ID = bytes.fromhex("1234567890123456")

KSN_LENGTH = 12
INITIAL_KEY_ID_LENGTH = 8
MAC_LENGTH = 8
_BLOCK = 16


class KeyUsage(IntEnum):
    """Key usage indicators of the X9.24-3 derivation data (bytes 2-3)."""

    KEY_ENCRYPTION = 0x0002
    PIN_ENCRYPTION = 0x1000
    MAC_GENERATION = 0x2000
    MAC_VERIFICATION = 0x2001
    MAC_BOTH_WAYS = 0x2002
    DATA_ENCRYPTION_ENCRYPT = 0x3000
    DATA_ENCRYPTION_DECRYPT = 0x3001
    DATA_ENCRYPTION_BOTH_WAYS = 0x3002
    KEY_DERIVATION = 0x8000
    KEY_DERIVATION_INITIAL = 0x8001


# Algorithm indicator and key length (bits) for AES-128, the only key type
# this profile uses for the BDK, the derivation keys and the working keys.
_AES128_ALGORITHM = 0x0002
_AES128_BITS = 128


class DukptError(MicroposError, ValueError):
    """A key, key serial number or counter that DUKPT cannot use.

    Attributes:
        what: which input was wrong (``"bdk"``, ``"ksn"``, ``"counter"``, ...).
    """

    def __init__(self, what: str, message: str) -> None:
        super().__init__(f"{what}: {message}")
        self.what = what


class MacError(MicroposError, ValueError):
    """A message that cannot carry a MAC under the profile's rule."""


def parse_ksn(ksn: bytes | str) -> tuple[bytes, int]:
    """Splits a KSN into its initial key ID and transaction counter.

    Args:
        ksn: 12 bytes, or 24 hex digits as carried in DE 53.

    Returns:
        ``(initial_key_id, counter)``.

    Raises:
        DukptError: the KSN has the wrong length or is not hex.
    """
    raw = _ksn_bytes(ksn)
    return raw[:INITIAL_KEY_ID_LENGTH], int.from_bytes(raw[INITIAL_KEY_ID_LENGTH:], "big")


def make_ksn(initial_key_id: bytes, counter: int) -> bytes:
    """The 12-byte KSN for an initial key ID and a transaction counter."""
    _check_initial_key_id(initial_key_id)
    _check_counter(counter)
    return initial_key_id + counter.to_bytes(4, "big")


@lru_cache(maxsize=256)
def initial_key(bdk: bytes, initial_key_id: bytes) -> bytes:
    """The initial key loaded into the terminal: derived from the BDK for its initial key ID (cached)."""
    _check_key("bdk", bdk)
    _check_initial_key_id(initial_key_id)
    return _derive(bdk, KeyUsage.KEY_DERIVATION_INITIAL, initial_key_id)


def derivation_key(initial: bytes, initial_key_id: bytes, counter: int) -> bytes:
    """The intermediate derivation ("transaction") key for one counter, from the initial key.

    The key is reached by walking the counter's set bits from the most
    significant down, deriving once per bit, which is what lets the terminal
    keep only a few future keys and the host recompute any of them.
    """
    _check_key("initial key", initial)
    _check_initial_key_id(initial_key_id)
    _check_counter(counter)
    return _walk(initial, initial_key_id[4:], counter)


@lru_cache(maxsize=4096)
def _walk(initial: bytes, derivation_id: bytes, counter: int) -> bytes:
    """The key after the counter's one-bits, from the most significant down.

    Cached by counter: consecutive counters share all but their last bits,
    so a host answering one terminal derives one or two keys a message, not
    one per one-bit.
    """
    if counter == 0:
        return initial
    lowest = counter & -counter
    key = _walk(initial, derivation_id, counter ^ lowest)
    return _derive(key, KeyUsage.KEY_DERIVATION, derivation_id + counter.to_bytes(4, "big"))


def transaction_key(bdk: bytes, ksn: bytes | str) -> bytes:
    """The intermediate derivation key for a KSN's counter, from the BDK (host side)."""
    ikid, counter = parse_ksn(ksn)
    return derivation_key(initial_key(bdk, ikid), ikid, counter)


def working_key(bdk: bytes, ksn: bytes | str, usage: KeyUsage) -> bytes:
    """An AES-128 working key of the given usage for a KSN, from the BDK."""
    ikid, counter = parse_ksn(ksn)
    return working_key_from_initial(initial_key(bdk, ikid), ikid, counter, usage)


def working_key_from_initial(
    initial: bytes, initial_key_id: bytes, counter: int, usage: KeyUsage = KeyUsage.MAC_BOTH_WAYS
) -> bytes:
    """The same working key reached the terminal's way, from its initial key (tests play terminal)."""
    key = derivation_key(initial, initial_key_id, counter)
    return _derive(key, usage, initial_key_id[4:] + counter.to_bytes(4, "big"))


@lru_cache(maxsize=4096)
def mac_working_key(bdk: bytes, ksn: bytes | str) -> bytes:
    """The "message authentication, both ways" key (usage 0x2002) for a KSN.

    Both ways because the acquirer MACs its response with the key of the
    request's KSN: a response carries no DE 53 of its own. Cached: the host
    checks a request and signs its answer with the same key.
    """
    return working_key(bdk, ksn, KeyUsage.MAC_BOTH_WAYS)


def cmac(key: bytes, data: bytes) -> bytes:
    """The full 16-byte AES-CMAC (NIST SP 800-38B) of ``data``."""
    _check_key("mac key", key)
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def mac_message(key: bytes, message_without_mac: bytes) -> bytes:
    """The DE 64 value for a message: the first 8 bytes of its AES-CMAC.

    Args:
        key: the 16-byte MAC working key.
        message_without_mac: the message from the MTI up to, not including,
            the DE 64 data, with bit 64 already set in the primary bitmap.

    Raises:
        MacError: the message is too short to hold an MTI and a bitmap, or
            its bitmap does not announce DE 64.
    """
    if len(message_without_mac) < 12:
        raise MacError(f"message of {len(message_without_mac)} bytes has no MTI and bitmap")
    if not message_without_mac[11] & 0x01:
        raise MacError("bit 64 is not set in the bitmap: the MAC covers the bitmap as sent")
    return cmac(key, message_without_mac)[:MAC_LENGTH]


def verify_mac(key: bytes, message_without_mac: bytes, mac: bytes) -> bool:
    """Whether ``mac`` is the DE 64 value of the message, compared in constant time."""
    try:
        expected = mac_message(key, message_without_mac)
    except MacError:
        return False
    return hmac.compare_digest(expected, mac)


def _derive(key: bytes, usage: KeyUsage, tail: bytes) -> bytes:
    # Derivation data: version 01, key block counter 01, usage, algorithm,
    # length in bits, then 8 bytes (initial key ID, or derivation ID + counter).
    data = (
        bytes([0x01, 0x01])
        + int(usage).to_bytes(2, "big")
        + _AES128_ALGORITHM.to_bytes(2, "big")
        + _AES128_BITS.to_bytes(2, "big")
        + tail
    )
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _ksn_bytes(ksn: bytes | str) -> bytes:
    if isinstance(ksn, str):
        try:
            raw = bytes.fromhex(ksn)
        except ValueError:
            raise DukptError("ksn", f"{ksn!r} is not hex") from None
    else:
        raw = bytes(ksn)
    if len(raw) != KSN_LENGTH:
        raise DukptError("ksn", f"{len(raw)} bytes, expected {KSN_LENGTH}")
    return raw


def _check_key(what: str, key: bytes) -> None:
    if len(key) != _BLOCK:
        raise DukptError(what, f"{len(key)} bytes, expected an AES-128 key of {_BLOCK}")


def _check_initial_key_id(initial_key_id: bytes) -> None:
    if len(initial_key_id) != INITIAL_KEY_ID_LENGTH:
        raise DukptError("initial key id", f"{len(initial_key_id)} bytes, expected {INITIAL_KEY_ID_LENGTH}")


def _check_counter(counter: int) -> None:
    if not 0 < counter <= 0xFFFFFFFF:
        raise DukptError("counter", f"{counter:#x} is outside 1..0xFFFFFFFF")
    # A terminal never uses a counter with more than 16 bits set, but the
    # host derives any counter: the published vectors include such counters.
