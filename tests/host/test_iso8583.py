"""The micropos-8583 profile: layout, framing, MAC helpers."""
from __future__ import annotations

import asyncio
import random
import socket
import string

import pytest

import iso8583 as pyiso8583
from micropos import iso8583, mac

KSN = "123456789012345600000001"
SALE = {
    "t": "0200",
    "2": "6212345678901234",
    "3": "000000",
    "4": "000000001234",
    "7": "1111093000",
    "11": "000001",
    "12": "173000",
    "13": "1111",
    "14": "2812",
    "22": "022",
    "25": "00",
    "41": "TERM0001",
    "42": "MERCHANT0000001",
    "49": "156",
    "53": KSN,
    "60": "000001",
}


def test_spec_covers_exactly_the_profile_fields() -> None:
    fields = {k for k in iso8583.SPEC if k.isdigit()}
    assert fields == {"2", "3", "4", "7", "11", "12", "13", "14", "22", "25", "37", "38", "39", "41", "42", "49",
                      "53", "54", "60", "61", "62", "63", "64"}
    assert set(iso8583.CONTENT) == fields
    assert iso8583.SPEC["p"]["data_enc"] == "b" and iso8583.SPEC["p"]["max_len"] == 8
    assert iso8583.SPEC["2"]["len_type"] == 2 and iso8583.SPEC["53"]["len_type"] == 2
    assert all(iso8583.SPEC[f]["len_type"] == 3 for f in ("54", "60", "61", "62", "63"))


def test_encode_layout_is_ascii_with_binary_bitmap() -> None:
    raw = iso8583.encode({"t": "0800", "3": "990000", "7": "1111093000", "11": "000007", "41": "TERM0001",
                          "42": "MERCHANT0000001"})
    assert raw[:4] == b"0800"
    assert raw[4:12] == bytes.fromhex("2220000000C00000")
    assert raw[12:] == b"990000" b"1111093000" b"000007" b"TERM0001" b"MERCHANT0000001"


def test_lengths_prefixes_are_ascii_digits() -> None:
    raw = iso8583.encode({"t": "0500", "60": "000001", "63": "0" * 45, "53": KSN})
    assert b"24" + KSN.encode() in raw
    assert b"006000001" in raw
    assert b"045" + b"0" * 45 in raw


def test_roundtrip_and_stock_library_agree() -> None:
    raw = iso8583.sign(SALE, mac.DEMO_BDK)
    decoded = iso8583.decode(raw)
    assert {k: v for k, v in decoded.items() if k not in ("p", "64")} == SALE
    stock, _ = pyiso8583.decode(raw, iso8583.SPEC)
    assert stock == decoded


def test_encode_does_not_mutate_and_ignores_given_bitmap() -> None:
    fields = dict(SALE, p="FFFFFFFFFFFFFFFF")
    raw = iso8583.encode(fields)
    assert fields["p"] == "FFFFFFFFFFFFFFFF"
    assert iso8583.decode(raw)["p"] != "FFFFFFFFFFFFFFFF"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"4": "1234"}, "4"),             # wrong fixed length
        ({"4": "00000000123A"}, "4"),     # not numeric
        ({"2": "1" * 20}, "2"),           # LLVAR too long
        ({"41": "TERM\x0101"}, "41"),     # not printable
        ({"t": "02A0"}, "t"),
        ({"70": "301"}, "70"),            # not in the profile
    ],
)
def test_encode_errors_name_the_field(change: dict[str, str], field: str) -> None:
    with pytest.raises(iso8583.ProfileError) as err:
        iso8583.encode({**SALE, **change})
    assert err.value.field == field
    assert isinstance(err.value, ValueError)


def test_decode_errors_name_the_field() -> None:
    raw = iso8583.encode(SALE)
    with pytest.raises(iso8583.ProfileError) as err:
        iso8583.decode(raw[:-3])
    assert err.value.field == "60"
    with pytest.raises(iso8583.ProfileError):
        iso8583.decode(raw + b"junk")
    with pytest.raises(iso8583.ProfileError) as err:
        iso8583.decode(b"0200")
    # Bit 1 (secondary bitmap) is not part of the v1 profile.
    with pytest.raises(iso8583.ProfileError) as err:
        iso8583.decode(b"0200" + bytes.fromhex("8000000000000000") + bytes(8))
    assert err.value.field == "1"
    with pytest.raises(iso8583.ProfileError) as err:
        iso8583.decode(b"0200" + bytes.fromhex("1000000000000000") + b"00000000123X")
    assert err.value.field == "4"


def test_frame_limits() -> None:
    assert iso8583.frame(b"abc") == b"\x00\x03abc"
    assert iso8583.frame(b"x" * 2048)[:2] == b"\x08\x00"
    for bad in (b"", b"x" * 2049):
        with pytest.raises(iso8583.FramingError):
            iso8583.frame(bad)
    assert iso8583.parse_header(b"\x08\x00") == 2048
    for header in (b"\x00\x00", b"\x08\x01", b"\xff\xff"):
        with pytest.raises(iso8583.FramingError) as err:
            iso8583.parse_header(header)
        assert err.value.length == int.from_bytes(header, "big")


def test_read_frame_async() -> None:
    async def read(data: bytes) -> bytes | None:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await iso8583.read_frame(reader)

    assert asyncio.run(read(b"\x00\x02hi")) == b"hi"
    assert asyncio.run(read(b"")) is None
    for bad in (b"\x00", b"\x00\x05hi", b"\x00\x00", b"\x09\x00" + b"x" * 2304):
        with pytest.raises(iso8583.FramingError):
            asyncio.run(read(bad))


def test_recv_frame_over_a_socket() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(iso8583.frame(b"hello") + b"\x00\x03ab")
        a.shutdown(socket.SHUT_WR)
        assert iso8583.recv_frame(b) == b"hello"
        with pytest.raises(iso8583.FramingError):
            iso8583.recv_frame(b)


def test_mac_covers_mti_to_before_de64_with_bit_64_set() -> None:
    key = mac.mac_working_key(mac.DEMO_BDK, KSN)
    raw = iso8583.apply_mac(SALE, key)
    assert raw[11] & 0x01
    assert raw[-8:] == mac.cmac(key, raw[:-8])[:8]
    assert iso8583.sign(SALE, mac.DEMO_BDK) == raw
    assert iso8583.verify_mac(raw, key)
    tampered = raw.replace(b"000000001234", b"000000009999")
    assert not iso8583.verify_mac(tampered, key)
    assert not iso8583.verify_mac(iso8583.encode(SALE), key)  # no DE 64 at all
    other = mac.mac_working_key(mac.DEMO_BDK, "123456789012345600000002")
    assert not iso8583.verify_mac(raw, other)


def test_ksn_of() -> None:
    assert iso8583.ksn_of(SALE).hex().upper() == KSN
    with pytest.raises(iso8583.ProfileError) as err:
        iso8583.ksn_of({"t": "0200"})
    assert err.value.field == "53"
    with pytest.raises(iso8583.ProfileError):
        iso8583.ksn_of({"53": "12345678"})


def _random_fields(rng: random.Random, valid: bool) -> dict[str, object]:
    """A random subset of the profile's fields; when not ``valid``, some with a wrong length or character."""
    alphabets = {"n": "0123456789", "an": string.ascii_letters + string.digits + " ",
                 "ans": "".join(map(chr, range(0x20, 0x7F))), "b": "0123456789ABCDEFabcdef"}
    fields: dict[str, object] = {"t": "".join(rng.choice("0123456789") for _ in range(4))}
    for key, kind in iso8583.CONTENT.items():
        if rng.random() < 0.5:
            continue
        spec = iso8583.SPEC[key]
        longest = spec["max_len"] * (2 if kind == "b" else 1)
        length = longest if spec["len_type"] == 0 else rng.randint(0, longest)
        value = "".join(rng.choice(alphabets[kind]) for _ in range(length))
        if not valid and rng.random() < 0.15:
            value = rng.choice([value[:-1], value + "7", value + "x", value.replace(value[:1] or "0", "\x01", 1),
                                value + "é", " " + value[1:]])
        fields[key] = value
    if not valid and rng.random() < 0.05:
        fields[rng.choice(["1", "5", "65", "70", "x"])] = "1"
    return fields


@pytest.mark.parametrize("valid", [True, False])
def test_the_encoder_makes_the_very_bytes_pyiso8583_makes_and_refuses_what_it_refuses(valid: bool) -> None:
    rng = random.Random(8583 + valid)
    for _ in range(3000):
        fields = _random_fields(rng, valid)
        try:
            ours: bytes | str = iso8583.encode(fields)  # type: ignore[arg-type]
        except iso8583.ProfileError as exc:
            ours = f"refused: {exc.field}"
        try:  # the library, plus the profile's rules it does not know: no field outside SPEC, character classes
            foreign = [k for k in fields if k not in iso8583.SPEC or k == "h"]
            if foreign:
                raise KeyError(foreign[0])
            stock: bytes | str = bytes(pyiso8583.encode(dict(fields), iso8583.SPEC)[0])
            decoded = pyiso8583.decode(stock, iso8583.SPEC)[0]
            iso8583._check_content(decoded)
            if len(stock) > iso8583.MAX_MESSAGE:
                stock = "refused: None"
        except (pyiso8583.EncodeError, iso8583.ProfileError, KeyError) as exc:
            stock = f"refused: {getattr(exc, 'field', None)}"
        if isinstance(ours, str) and isinstance(stock, str):
            continue  # both refuse (each names the first fault it meets, not always the same field)
        assert ours == stock, fields
