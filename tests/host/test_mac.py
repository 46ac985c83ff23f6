"""AES DUKPT (ANSI X9.24-3-2017, host side) and the profile's AES-CMAC rule."""
from __future__ import annotations

import pytest

from micropos import mac

BDK = bytes.fromhex("FEDCBA9876543210F1F1F1F1F1F1F1F1")
IKID = bytes.fromhex("1234567890123456")
INITIAL_KEY = "1273671EA26AC29AFA4D1084127652A1"


def ksn(counter: int) -> str:
    return f"1234567890123456{counter:08X}"


def test_demo_constants_are_the_x9_test_keys() -> None:
    assert mac.DEMO_BDK == BDK
    assert mac.DEMO_INITIAL_KEY_ID == IKID


def test_initial_key_vector() -> None:
    assert mac.initial_key(BDK, IKID).hex().upper() == INITIAL_KEY


@pytest.mark.parametrize(
    ("counter", "expected"),
    [
        (0x00000001, "4F21B565BAD9835E112B6465635EAE44"),
        (0x00000002, "2F34D68DE10F68D38091A73B9E7C437C"),
        (0xFFFF0000, "F6BA59389BD14A9855BE9727E7C52E3C"),
    ],
)
def test_transaction_key_vectors(counter: int, expected: str) -> None:
    assert mac.transaction_key(BDK, ksn(counter)).hex().upper() == expected
    # The terminal's path (from its initial key) reaches the same key.
    assert mac.derivation_key(bytes.fromhex(INITIAL_KEY), IKID, counter).hex().upper() == expected


# Published X9.24-3-2017 working-key vectors (AES-128 BDK, AES-128 working keys).
@pytest.mark.parametrize(
    ("counter", "usage", "expected"),
    [
        (1, mac.KeyUsage.MAC_BOTH_WAYS, "85675439D18D7F1158BD8E3EAA3D502B"),
        (1, mac.KeyUsage.MAC_GENERATION, "A2DC23DE6FDE0824A2BC321E08E4B8B7"),
        (1, mac.KeyUsage.MAC_VERIFICATION, "DBB463945B286C07CD3AD82EE96FD9C9"),
        (1, mac.KeyUsage.PIN_ENCRYPTION, "AF8CB133A78F8DC2D1359F18527593FB"),
        (1, mac.KeyUsage.DATA_ENCRYPTION_ENCRYPT, "A35C412EFD41FDB98B69797C02DCD08F"),
        (1, mac.KeyUsage.KEY_ENCRYPTION, "36A724B7BEFA5A25F5E7B5782A4554A2"),
        (2, mac.KeyUsage.MAC_GENERATION, "484C3B06E8562704528CD5B46FB12FB6"),
        (2, mac.KeyUsage.PIN_ENCRYPTION, "D30BDC73EC9714B000BEC66BDB7B6D09"),
        (0x0001FFFF, mac.KeyUsage.MAC_GENERATION, "8B543DCF4A31EA3AB47DAD16B8ABD404"),
        (0x00020000, mac.KeyUsage.MAC_GENERATION, "0B59D3D7D93028D97135FB895CACE24E"),
    ],
)
def test_working_key_vectors(counter: int, usage: mac.KeyUsage, expected: str) -> None:
    assert mac.working_key(BDK, ksn(counter), usage).hex().upper() == expected


def test_mac_working_key_is_usage_2002() -> None:
    assert mac.mac_working_key(BDK, ksn(1)).hex().upper() == "85675439D18D7F1158BD8E3EAA3D502B"
    assert mac.mac_working_key(BDK, bytes.fromhex(ksn(1))) == mac.mac_working_key(BDK, ksn(1))


def test_parse_and_make_ksn() -> None:
    assert mac.parse_ksn(ksn(0x1234)) == (IKID, 0x1234)
    assert mac.make_ksn(IKID, 0x1234).hex().upper() == ksn(0x1234)


@pytest.mark.parametrize(
    "bad",
    ["12345678901234560000000", "1234567890123456000000ZZ", "", "12345678901234560000000100"],
)
def test_malformed_ksn_is_rejected(bad: str) -> None:
    with pytest.raises(mac.DukptError) as err:
        mac.mac_working_key(BDK, bad)
    assert err.value.what == "ksn"


def test_invalid_counters_are_rejected() -> None:
    with pytest.raises(mac.DukptError) as err:
        mac.transaction_key(BDK, IKID + bytes(4))
    assert err.value.what == "counter"
    with pytest.raises(mac.DukptError):
        mac.make_ksn(IKID, 1 << 32)


def test_wrong_key_lengths_are_rejected() -> None:
    with pytest.raises(mac.DukptError):
        mac.initial_key(BDK[:8], IKID)
    with pytest.raises(mac.DukptError):
        mac.initial_key(BDK, IKID[:4])


# NIST SP 800-38B, appendix D.1 (AES-128).
NIST_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("", "bb1d6929e95937287fa37d129b756746"),
        ("6bc1bee22e409f96e93d7e117393172a", "070a16b46b4d4144f79bdd9dd04a287c"),
    ],
)
def test_cmac_nist_vectors(message: str, expected: str) -> None:
    assert mac.cmac(NIST_KEY, bytes.fromhex(message)).hex() == expected


def test_mac_message_is_first_8_bytes_of_cmac_and_needs_bit_64() -> None:
    body = b"0200" + bytes.fromhex("2000000000000001") + b"000000"
    assert mac.mac_message(NIST_KEY, body) == mac.cmac(NIST_KEY, body)[:8]
    assert mac.verify_mac(NIST_KEY, body, mac.mac_message(NIST_KEY, body))
    assert not mac.verify_mac(NIST_KEY, body, bytes(8))
    without_bit_64 = b"0200" + bytes.fromhex("2000000000000000") + b"000000"
    with pytest.raises(mac.MacError):
        mac.mac_message(NIST_KEY, without_bit_64)
    with pytest.raises(mac.MacError):
        mac.mac_message(NIST_KEY, b"0200")
