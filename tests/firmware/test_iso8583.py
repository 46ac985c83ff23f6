"""ISO 8583 codec (firmware/iso8583.py) on the unix port: every message of the profile,
exact bytes, rejections with their exact messages, the MAC span, and heap use."""
import gc
from binascii import hexlify, unhexlify

import iso8583
from cmac import Cmac
from iso8583 import DecodeError, EncodeError, Message

KSN = "123456789012345600000001"
# X9.24-3 "MAC both ways" working key for KSN ...00000001 under the demo BDK.
MAC_KEY = unhexlify("85675439D18D7F1158BD8E3EAA3D502B")
PAN = "6212345678901234"
TERMINAL = "TERM0001"
MERCHANT = "MERCHANT0000001"

SALE = (
    (0, "0200"), (2, PAN), (3, "000000"), (4, 1234), (7, "1122093000"), (11, 42),
    (12, "173000"), (13, "1122"), (14, "2812"), (22, "022"), (25, "00"), (41, TERMINAL),
    (42, MERCHANT), (49, 156), (53, KSN), (60, 1),
)
REFUND = (
    (0, "0200"), (2, PAN), (3, "200000"), (4, 500), (7, "1123101500"), (11, 43),
    (12, "181500"), (13, "1123"), (14, "2812"), (22, "012"), (25, "00"), (37, "000000123456"),
    (41, TERMINAL), (42, MERCHANT), (49, 156), (53, KSN), (60, 1),
    (61, "0000000000001122"), (62, "01"),
)
VOID = (
    (0, "0200"), (2, PAN), (3, "020000"), (4, 1234), (7, "1122094000"), (11, 44),
    (12, "174000"), (13, "1122"), (22, "072"), (25, "00"), (37, "000000123456"),
    (41, TERMINAL), (42, MERCHANT), (49, 156), (53, KSN), (60, 1), (61, "0000010000421122"),
)
SETTLEMENT = (
    (0, "0500"), (3, "920000"), (7, "1122093000"), (11, 42), (41, TERMINAL), (42, MERCHANT),
    (49, 156), (53, KSN), (60, 1), (63, "002000000003000001000000000500000000000000000"),
)
ECHO = ((0, "0800"), (3, "990000"), (7, "1111093000"), (11, 7), (41, TERMINAL), (42, MERCHANT))
SALE_RESPONSE = (
    (0, "0210"), (3, "000000"), (4, 1234), (7, "1122093000"), (11, 42), (12, "173000"),
    (13, "1122"), (37, "000000123456"), (38, "  A1B2"), (39, "00"), (41, TERMINAL),
    (42, MERCHANT), (49, 156),
)
# What a reversal repeats of its request, unchanged (protocol: 0400 "reversal").
REVERSAL_COPIES = (2, 3, 4, 7, 11, 12, 13, 22, 37, 41, 42, 49, 60, 61)


def _build(fields, msg=None):
    msg = msg or Message()
    msg.clear()
    for de, value in fields:
        msg.set(de, value)
    return msg


def _expected(de, value):
    """The bytes ``set(de, value)`` stores: ints zero-padded to the field's maximum length."""
    if isinstance(value, int):
        width = iso8583.field(de)[3]
        value = ("0" * width + str(value))[-width:]
    return value.encode() if isinstance(value, str) else bytes(value)


def _round_trip(fields, mac=None):
    """Encodes, decodes into a fresh Message, checks every field and re-encodes identically."""
    out = bytearray(iso8583.MAX_MESSAGE)
    sent = _build(fields)
    length = sent.encode(out, mac=mac)
    got = Message()
    got.decode(out, length)
    expected = {de: _expected(de, value) for de, value in fields}
    for de in range(0, 65):
        if de in expected:
            assert bytes(got.get(de)) == expected[de], (de, bytes(got.get(de)), expected[de])
        elif de == 64 and mac is not None:
            assert got.has(64)
        else:
            assert not got.has(de), de
    again = bytearray(iso8583.MAX_MESSAGE)
    assert got.encode(again) == length
    assert again[:length] == out[:length]
    return got, out, length


def test_round_trip_sale_with_mac():
    got, out, length = _round_trip(SALE, mac=Cmac(MAC_KEY))
    span, mac_at = iso8583.mac_span(out, length)
    assert Cmac(MAC_KEY).verify8(span, bytes(got.get(64)))
    assert mac_at == length - 8


def test_round_trip_refund_with_de61_de62():
    got, _, _ = _round_trip(REFUND, mac=Cmac(MAC_KEY))
    assert bytes(got.get(61)) == b"0000000000001122"
    assert got.get_str(62) == "01"
    assert got.get_str(3) == "200000"


def test_round_trip_void():
    _round_trip(VOID, mac=Cmac(MAC_KEY))


def test_round_trip_reversal_built_from_its_request():
    request = _build(VOID)
    reversal = Message("0400")
    for de in REVERSAL_COPIES:
        if request.has(de):
            reversal.set(de, request.get(de))
    reversal.set(39, "98")
    reversal.set(53, KSN)
    fields = [(0, "0400"), (39, "98"), (53, KSN)]
    fields += [(de, bytes(request.get(de))) for de in REVERSAL_COPIES if request.has(de)]
    got, _, _ = _round_trip(fields, mac=Cmac(MAC_KEY))
    for de in REVERSAL_COPIES:
        if request.has(de):
            assert got.same(de, request), de
    out = bytearray(512)
    assert reversal.encode(out) == _build(fields).encode(bytearray(512))


def test_round_trip_settlement_with_de63():
    got, _, _ = _round_trip(SETTLEMENT, mac=Cmac(MAC_KEY))
    assert len(got.get(63)) == 45


def test_round_trip_echo_and_sale_response():
    _round_trip(ECHO)
    got, _, _ = _round_trip(SALE_RESPONSE, mac=Cmac(MAC_KEY))
    request = _build(SALE)
    for de in (4, 11, 41):
        assert got.same(de, request)
    assert not got.same(2, request)  # absent from the response
    assert bytes(got.get(38)) == b"  A1B2"  # space-padded approval code passes as an


def test_exact_bytes_echo():
    out = bytearray(64)
    length = _build(ECHO).encode(out)
    assert out[:4] == b"0800"
    # DE 3, 7 -> 0x22; DE 11 -> 0x20; DE 41, 42 -> 0xC0 in the sixth byte.
    assert hexlify(out[4:12]) == b"2220000000c00000"
    assert out[12:length] == b"990000" b"1111093000" b"000007" b"TERM0001" b"MERCHANT0000001"
    assert length == 4 + 8 + 6 + 10 + 6 + 8 + 15


def test_exact_bytes_settlement_with_mac():
    out = bytearray(256)
    length = _build(SETTLEMENT).encode(out, mac=Cmac(MAC_KEY))
    assert length == 151
    assert out[:4] == b"0500"
    # DE 49 0x80 + DE 53 0x08 -> 0x88; DE 60 0x10 + DE 63 0x02 + DE 64 0x01 -> 0x13.
    assert hexlify(out[4:12]) == b"2220000000c08813"
    assert out[12:length - 8] == (
        b"920000" b"1122093000" b"000042" b"TERM0001" b"MERCHANT0000001" b"156"
        b"24" b"123456789012345600000001" b"006" b"000001"
        b"045" b"002000000003000001000000000500000000000000000"
    )
    # Same value as pyiso8583 + pyca CMAC on the host (tests/host/test_iso8583_crosscheck.py).
    assert hexlify(out[length - 8:length]) == b"c3b126b068c4ae38"


def test_int_values_are_zero_padded_to_the_field_length():
    msg = Message(200)
    msg.set(4, 0)
    msg.set(60, 7)
    msg.set(62, 1)
    assert bytes(msg.get(0)) == b"0200"
    assert bytes(msg.get(4)) == b"000000000000"
    assert bytes(msg.get(60)) == b"000007"
    assert bytes(msg.get(62)) == b"01"
    msg.set(4, 999999999999)
    assert msg.get_str(4) == "999999999999"


def test_set_overwrites_in_place_and_clear_forgets():
    msg = _build(SALE)
    msg.set(2, "4111111111111111111")
    msg.set(2, "411111")
    assert bytes(msg.get(2)) == b"411111"
    msg.clear()
    assert msg.get(14) is None and msg.get_str(14) is None
    assert not msg.has(0) and not msg.has(2)
    assert not msg.has(1) and not msg.has(99)
    try:
        msg.encode(bytearray(64))
    except EncodeError as exc:
        assert str(exc) == "MTI: not set"
    else:
        raise AssertionError("encoded without an MTI")


def test_bytes_str_and_memoryview_values():
    msg = Message("0800")
    msg.set(41, b"TERM0001")
    msg.set(42, memoryview(bytearray(b"xxMERCHANT0000001"))[2:])
    msg.set(64, b"\x00\xff\x10\x20\x30\x40\x50\x60")
    assert bytes(msg.get(42)) == b"MERCHANT0000001"
    assert bytes(msg.get(64)) == b"\x00\xff\x10\x20\x30\x40\x50\x60"


# (field, value, exact EncodeError text)
SET_REJECTIONS = (
    (4, "0000000012345", "DE 4: 13 digits, at most 12"),
    (4, 1234567890123, "DE 4: 13 digits, at most 12"),
    (4, "1234", "DE 4: 4 digits, expected 12"),
    (4, "00000000123A", "DE 4: byte 0x41 at position 12 is not a digit"),
    (4, -1, "DE 4: negative value -1"),
    (2, "1" * 20, "DE 2: 20 characters, at most 19"),
    (53, "1" * 25, "DE 53: 25 characters, at most 24"),
    (63, "0" * 46, "DE 63: 46 characters, at most 45"),
    (62, "123", "DE 62: 3 digits, at most 2"),
    (41, "TERM\x01001", "DE 41: byte 0x01 at position 5 is not printable ASCII"),
    (41, "\u00e9123456", "DE 41: byte 0xc3 at position 1 is not printable ASCII"),
    (37, "ABC-12345678", "DE 37: byte 0x2d at position 4 is not alphanumeric"),
    (41, 12345678, "DE 41: an int is only for a numeric field"),
    (64, b"1234567", "DE 64: 7 bytes, expected 8"),
    (1, "x", "DE 1: not in the profile"),
    (5, "x", "DE 5: not in the profile"),
    (65, "1", "DE 65: not in the profile"),
    (0, "02A0", "MTI: byte 0x41 at position 3 is not a digit"),
    (0, "200", "MTI: 3 digits, expected 4"),
    (0, 20000, "MTI: 5 digits, at most 4"),
)


def test_set_rejections_name_the_field_and_keep_the_old_value():
    msg = _build(SALE)
    before = bytearray(512)
    length = msg.encode(before)
    for de, value, text in SET_REJECTIONS:
        try:
            msg.set(de, value)
        except EncodeError as exc:
            assert str(exc) == text, (de, value, str(exc))
            assert isinstance(exc, ValueError)
        else:
            raise AssertionError("accepted DE %d = %r" % (de, value))
    after = bytearray(512)
    assert msg.encode(after) == length and after == before


def _echo_bytes():
    out = bytearray(64)
    return bytes(out[:_build(ECHO).encode(out)])


def _raw(mti, bitmap_hex, body):
    return mti + unhexlify(bitmap_hex) + body


# (received bytes, exact DecodeError text)
DECODE_REJECTIONS = (
    (b"0200", "message of 4 bytes, shorter than MTI and bitmap"),
    (_raw(b"02X0", "0000000000000000", b""), "MTI: byte 0x58 at position 3 is not a digit"),
    (_raw(b"0200", "8000000000000000", bytes(8)), "DE 1: secondary bitmap, not in the profile"),
    (_raw(b"0200", "0800000000000000", b"x"), "DE 5: not in the profile"),
    (_raw(b"0200", "0000000000000002", b"x"), "DE 63: truncated in its length"),
    (_raw(b"0200", "0000000000000004", b"x"), "DE 62: truncated in its length"),
    (_raw(b"0200", "0000000000000004", b"00"), "DE 62: truncated in its length"),
    (_raw(b"0200", "0000000000000004", b"0031"), "DE 62: 3 digits, at most 2"),
    (_raw(b"0200", "0000000000000004", b"0021"), "DE 62: truncated, 1 of 2 bytes"),
    (_raw(b"0200", "4000000000000000", b"1A1234567890"), "DE 2: length prefix is not 2 digits"),
    (_raw(b"0200", "4000000000000000", b"2012345678901234567890"), "DE 2: 20 characters, at most 19"),
    (_raw(b"0200", "1000000000000000", b"00000000123X"), "DE 4: byte 0x58 at position 12 is not a digit"),
    (_raw(b"0210", "0000000002000000", b"0\x07"), "DE 39: byte 0x07 at position 2 is not alphanumeric"),
    (_raw(b"0200", "0000000000000001", b"1234567"), "DE 64: truncated, 7 of 8 bytes"),
    (_echo_bytes()[:-3], "DE 42: truncated, 12 of 15 bytes"),
    (_echo_bytes() + b"junk", "4 bytes after the last field"),
)


def test_decode_rejections_name_the_field_and_leave_the_message_empty():
    msg = Message()
    for raw, text in DECODE_REJECTIONS:
        msg.decode(_echo_bytes(), len(_echo_bytes()))
        buf = bytearray(raw)
        try:
            msg.decode(buf, len(buf))
        except DecodeError as exc:
            assert str(exc) == text, (raw, str(exc))
        else:
            raise AssertionError("accepted %r" % raw)
        assert not msg.has(0) and not msg.has(3) and not msg.has(41)


def test_decode_bounds_of_the_buffer():
    msg = Message()
    for buf, length, text in (
        (bytearray(20), 100, "message of 100 bytes overruns a buffer of 20"),
        (bytearray(4096), 2049, "message of 2049 bytes, at most 2048"),
    ):
        try:
            msg.decode(buf, length)
        except DecodeError as exc:
            assert str(exc) == text, str(exc)
        else:
            raise AssertionError(text)


def test_encode_rejects_a_buffer_too_small():
    try:
        _build(SETTLEMENT).encode(bytearray(60))
    except EncodeError as exc:
        assert str(exc) == "DE 53: does not fit in 60 bytes", str(exc)
    else:
        raise AssertionError("overran the buffer")


def test_decode_at_an_offset():
    frame = bytearray(iso8583.MAX_MESSAGE + 2)
    length = _build(ECHO).encode(frame, 2)
    assert length == 57
    msg = Message()
    msg.decode(frame, length, 2)
    assert bytes(msg.get(41)) == b"TERM0001"


def test_mac_span_covers_mti_to_before_de64_with_bit_64_set():
    out = bytearray(300)
    out[0:3] = b"\xAA\xAA\xAA"  # the span must start at ``start``, not at 0
    msg = _build(REFUND)
    msg.set(64, bytes(8))  # placeholder: the caller MACs in place
    length = msg.encode(out, 3)
    span, mac_at = iso8583.mac_span(out, length, 3)
    assert mac_at == 3 + length - 8
    assert len(span) == length - 8
    assert bytes(span[:4]) == b"0200" and span[11] & 0x01
    assert bytes(span[-2:]) == b"01"  # DE 62, the field before DE 64
    Cmac(MAC_KEY).mac8(span, memoryview(out)[mac_at:mac_at + 8])
    # encode(mac=...) gives the same bytes and stores the MAC in the message too.
    again = bytearray(300)
    signed = _build(REFUND)
    assert signed.encode(again, mac=Cmac(MAC_KEY)) == length
    assert again[:length] == out[3:3 + length]
    assert bytes(signed.get(64)) == bytes(out[mac_at:mac_at + 8])
    # A received message is verified over the same span.
    got = Message()
    got.decode(again, length)
    span, mac_at = iso8583.mac_span(again, length)
    assert Cmac(MAC_KEY).verify8(span, got.get(64))
    again[20] ^= 1
    assert not Cmac(MAC_KEY).verify8(span, got.get(64))
    echo = bytearray(_echo_bytes())
    try:
        iso8583.mac_span(echo, len(echo))
    except DecodeError as exc:
        assert str(exc) == "DE 64: absent"
    else:
        raise AssertionError("MAC span of a message without DE 64")


def test_profile_table():
    assert iso8583.SLOTS_SIZE == 238  # every field's maximum length, MTI included
    # MTI, bitmap, and every field with its length digits at its longest
    assert iso8583.LONGEST == 4 + 8 + (238 - 4) + 2 * 2 + 3 * 5
    # (number, name, length digits (0 = fixed), max length, content: 1 N 2 AN 3 ANS 4 B)
    assert iso8583.field(0) == (0, "message type indicator", 0, 4, 1)
    assert iso8583.field(4) == (4, "amount, transaction (minor units)", 0, 12, 1)
    assert iso8583.field(2)[2:] == (2, 19, 3)  # ANS: masked in a batch upload
    assert iso8583.field(37)[2:] == (0, 12, 2)
    assert iso8583.field(63)[2:] == (3, 45, 3)
    assert iso8583.field(64)[2:] == (0, 8, 4)
    assert iso8583.field(5) is None


# Measured on the unix port (64-bit): 0 bytes for encode and for decode of a refund,
# every time; the figure must also not grow from one round to the next.
HEAP_BUDGET = 0


def test_heap_encode_decode_refund_allocates_nothing_and_the_same_each_time():
    out = bytearray(iso8583.MAX_MESSAGE)
    sent = _build(REFUND)
    sent.set(64, bytes(8))
    got = Message()
    encode_costs = []
    decode_costs = []
    for _ in range(5):
        gc.collect()
        before = gc.mem_alloc()
        length = sent.encode(out)
        encode_costs.append(gc.mem_alloc() - before)
        gc.collect()
        before = gc.mem_alloc()
        got.decode(out, length)
        decode_costs.append(gc.mem_alloc() - before)
    print("heap: encode", encode_costs, "decode", decode_costs, "bytes for a", length, "byte refund")
    assert max(encode_costs) == min(encode_costs) <= HEAP_BUDGET, encode_costs
    assert max(decode_costs) == min(decode_costs) <= HEAP_BUDGET, decode_costs
