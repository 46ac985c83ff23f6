"""AES-128-CMAC (firmware/cmac.py) on the unix port: RFC 4493 vectors and buffer behaviour."""
import gc
from binascii import hexlify, unhexlify

from cmac import Cmac

# RFC 4493 section 4: AES-128 key and the 64-byte message whose prefixes are MACed.
RFC_KEY = unhexlify("2b7e151628aed2a6abf7158809cf4f3c")
RFC_MESSAGE = unhexlify(
    "6bc1bee22e409f96e93d7e117393172a"
    "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef"
    "f69f2445df4f9b17ad2b417be66c3710"
)


def _hex(b):
    return hexlify(b).decode().upper()


def _rfc_mac8(length):
    return _hex(Cmac(RFC_KEY).mac8(RFC_MESSAGE[:length]))


def test_rfc4493_subkeys():
    c = Cmac(RFC_KEY)
    assert _hex(c._k1) == "FBEED618357133667C85E08F7236A8DE"
    assert _hex(c._k2) == "F7DDAC306AE266CCF90BC11EE46D513B"


def test_rfc4493_empty_message():
    assert _rfc_mac8(0) == "BB1D6929E9593728"


def test_rfc4493_16_bytes():
    assert _rfc_mac8(16) == "070A16B46B4D4144"


def test_rfc4493_40_bytes():
    assert _rfc_mac8(40) == "DFA66747DE9AE630"


def test_rfc4493_64_bytes():
    assert _rfc_mac8(64) == "51F0BEBF7E3B9D92"


def test_200_byte_message_matches_openssl():
    # Expected value from pyca/cryptography (OpenSSL) CMAC on the host, under the
    # X9.24-3 counter-1 "MAC both ways" key; 200 bytes = 12 full blocks + 8 bytes.
    key = unhexlify("85675439D18D7F1158BD8E3EAA3D502B")
    message = bytes(range(200))
    assert _hex(Cmac(key).mac8(message)) == "F3CDD2A7AA40813F"


def test_accepts_bytes_bytearray_and_memoryview():
    c = Cmac(RFC_KEY)
    framed = bytearray(b"\xAA" * 3 + RFC_MESSAGE[:40] + b"\x55" * 5)
    assert _hex(c.mac8(bytearray(RFC_MESSAGE[:40]))) == "DFA66747DE9AE630"
    assert _hex(c.mac8(memoryview(framed)[3:43])) == "DFA66747DE9AE630"


def test_mac_written_into_slice_of_message_buffer():
    c = Cmac(RFC_KEY)
    frame = bytearray(b"\xEE" * 20)
    result = c.mac8(RFC_MESSAGE[:16], memoryview(frame)[6:14])
    assert bytes(frame[6:14]) == unhexlify("070A16B46B4D4144")
    assert frame[:6] == b"\xEE" * 6 and frame[14:] == b"\xEE" * 6
    assert len(result) == 8


def test_repeated_macs_are_independent():
    c = Cmac(RFC_KEY)
    assert _hex(c.mac8(RFC_MESSAGE)) == "51F0BEBF7E3B9D92"
    assert _hex(c.mac8(b"")) == "BB1D6929E9593728"
    assert _hex(c.mac8(RFC_MESSAGE)) == "51F0BEBF7E3B9D92"


def test_rekey_matches_a_fresh_object():
    c = Cmac(bytes(16))
    c.rekey(RFC_KEY)
    assert _hex(c.mac8(RFC_MESSAGE[:40])) == "DFA66747DE9AE630"
    assert _hex(c._k1) == "FBEED618357133667C85E08F7236A8DE"


def test_verify8():
    c = Cmac(RFC_KEY)
    good = unhexlify("DFA66747DE9AE630")
    assert c.verify8(RFC_MESSAGE[:40], good)
    bad = bytearray(good)
    bad[7] ^= 1
    assert not c.verify8(RFC_MESSAGE[:40], bad)
    assert not c.verify8(RFC_MESSAGE[:40], good[:7])


def test_rejects_wrong_key_length():
    for length in (0, 15, 24, 32):
        try:
            Cmac(bytes(length))
        except ValueError:
            pass
        else:
            raise AssertionError("accepted a %d-byte key" % length)


def test_mac8_into_buffer_allocates_nothing():
    c = Cmac(RFC_KEY)
    message = bytearray(200)
    out = bytearray(8)
    c.mac8(message, out)  # warm up anything lazily created on first call
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        c.mac8(message, out)
        c.verify8(message, out)
        allocated = gc.mem_alloc() - before
    finally:
        gc.enable()
    assert allocated == 0, allocated
