"""The micropos-8583 wire profile: field layout, framing, and DE 64 MACs.

ISO 8583:1987 with ASCII numerics and a binary primary bitmap (no secondary
bitmap: no field above 64 is used). Messages travel over TCP behind a 2-byte
big-endian length. The layout is a pyiso8583 spec, so a message decoded here
is the same ``dict[str, str]`` a stock pyiso8583 user would get: ``"t"`` the
MTI, ``"p"`` the bitmap in hex, field numbers as keys, DE 64 as 16 hex digits.
"""
from __future__ import annotations

import asyncio
import binascii
import socket
import struct
from collections.abc import Mapping
from typing import Any

import iso8583
from micropos import mac as _mac
from micropos import tables
from micropos.errors import MicroposError

MAX_MESSAGE = 2048
_HEADER = struct.Struct(">H")


def _spec() -> dict[str, dict[str, Any]]:
    """The profile as a pyiso8583 spec, built from the firmware's field table (``tables.profile``)."""
    spec: dict[str, dict[str, Any]] = {
        "h": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 0, "desc": "Message Header (none)"},
        "p": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8, "desc": "Bitmap, Primary"},
    }
    for field in tables.profile():
        spec["t" if field.number == 0 else str(field.number)] = {
            "data_enc": "b" if field.content == "B" else "ascii", "len_enc": "ascii",
            "len_type": field.length_digits, "max_len": field.max_length, "desc": field.name}
    return {key: spec[key] for key in ("h", "t", "p", *sorted((k for k in spec if k.isdigit()), key=int))}


#: The profile as a pyiso8583 spec, one entry per field of the firmware's table.
SPEC: dict[str, dict[str, Any]] = _spec()

#: Content class of each field: ``n`` digits only, ``an``/``ans`` printable ASCII, ``b`` binary.
CONTENT: dict[str, str] = {str(f.number): f.content.lower() for f in tables.profile() if f.number}

Message = dict[str, str]

#: Each data field's (digits of its length prefix or 0 when fixed, longest length, binary), for :func:`encode`.
_LAYOUT: dict[str, tuple[int, int, bool]] = {
    key: (spec["len_type"], spec["max_len"], spec["data_enc"] == "b") for key, spec in SPEC.items() if key.isdigit()}

#: The primary bitmap with a bit set for each field of the profile (bit 1 the most significant).
_PROFILE_BITS = sum(1 << (64 - int(key)) for key in SPEC if key.isdigit())


class ProfileError(MicroposError, ValueError):
    """A message that does not fit the profile.

    Attributes:
        field: the field at fault (``"t"``, ``"p"``, ``"2"``...), or None when
            the fault is not one field's.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"field {field}: {message}" if field is not None else message)
        self.field = field


class FramingError(MicroposError, ValueError):
    """A length header outside 1..2048, or a stream that ends inside a frame.

    Attributes:
        length: the length the header announced, or None when the stream ended.
    """

    def __init__(self, message: str, length: int | None = None) -> None:
        super().__init__(message)
        self.length = length


# -- framing -----------------------------------------------------------------


def frame(message: bytes) -> bytes:
    """The message preceded by its 2-byte big-endian length.

    Raises:
        FramingError: the message is empty or longer than 2048 bytes.
    """
    check_length(len(message))
    return _HEADER.pack(len(message)) + message


def check_length(length: int) -> int:
    """Returns ``length`` when a frame may announce it; raises FramingError otherwise."""
    if not 0 < length <= MAX_MESSAGE:
        raise FramingError(f"frame length {length} is outside 1..{MAX_MESSAGE}", length)
    return length


def parse_header(header: bytes) -> int:
    """The message length a 2-byte header announces, checked against the profile's limits."""
    if len(header) != _HEADER.size:
        raise FramingError(f"length header of {len(header)} bytes, expected {_HEADER.size}")
    return check_length(_HEADER.unpack(header)[0])


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """Reads one framed message; None when the peer closed cleanly between frames.

    Raises:
        FramingError: a bad length, or the stream ended inside a frame.
    """
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise FramingError("stream ended inside a length header") from None
    length = parse_header(header)
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise FramingError(f"stream ended after {len(exc.partial)} of {length} bytes", length) from None


def recv_frame(sock: socket.socket) -> bytes | None:
    """Blocking counterpart of :func:`read_frame` for a plain socket (tests, tools)."""
    header = _recv_exactly(sock, _HEADER.size)
    if not header:
        return None
    if len(header) != _HEADER.size:
        raise FramingError("stream ended inside a length header")
    length = parse_header(header)
    body = _recv_exactly(sock, length)
    if len(body) != length:
        raise FramingError(f"stream ended after {len(body)} of {length} bytes", length)
    return body


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks)


# -- messages ----------------------------------------------------------------


def decode(raw: bytes) -> Message:
    """Decodes one message (without its frame header) into pyiso8583's dict form.

    Raises:
        ProfileError: the bytes are not a message of this profile.
    """
    if len(raw) < 12:
        raise ProfileError(f"message of {len(raw)} bytes is shorter than an MTI and a bitmap")
    foreign = int.from_bytes(raw[4:12], "big") & ~_PROFILE_BITS
    if foreign:
        raise ProfileError("field is not part of the profile", str(65 - foreign.bit_length()))
    try:
        decoded, _ = iso8583.decode(bytes(raw), SPEC)
    except iso8583.DecodeError as exc:
        raise ProfileError(exc.msg, exc.field) from None
    _check_content(decoded)
    return decoded


def encode(fields: Mapping[str, str]) -> bytes:
    """Encodes a message from ``"t"`` and its fields; any ``"p"`` given is recomputed.

    The bytes are those pyiso8583 makes from :data:`SPEC` (a test holds the
    two to it over thousands of messages), laid out straight from the
    profile: the acquirer encodes every answer, and the general library
    costs it more than its rules.

    Raises:
        ProfileError: a field is missing from the profile, has the wrong length
            or the wrong characters, or the result exceeds 2048 bytes.
    """
    _check_content(fields)
    numbers = []
    for key in fields:
        if key not in _LAYOUT:
            if key in ("t", "p"):
                continue
            raise ProfileError("field is not part of the profile", key)
        numbers.append(int(key))
    numbers.sort()
    bitmap = 0
    parts = [fields["t"].encode(), b""]
    for number in numbers:
        key = str(number)
        value = fields[key]
        length_digits, max_length, binary = _LAYOUT[key]
        if binary:
            try:
                data = binascii.a2b_hex(value)
            except (binascii.Error, ValueError):
                raise ProfileError(f"{value!r} is not hex", key) from None
        else:
            data = value.encode("ascii")  # _check_content let through ASCII only
        if length_digits == 0:
            if len(data) != max_length:
                raise ProfileError(f"field data is {len(data)} bytes, expecting {max_length}", key)
        else:
            if len(data) > max_length:
                raise ProfileError(f"field data is {len(data)} bytes, larger than maximum {max_length}", key)
            parts.append(b"%0*d" % (length_digits, len(data)))
        parts.append(data)
        bitmap |= 1 << (64 - number)
    parts[1] = bitmap.to_bytes(8, "big")
    raw = b"".join(parts)
    if len(raw) > MAX_MESSAGE:
        raise ProfileError(f"message of {len(raw)} bytes exceeds {MAX_MESSAGE}")
    return raw


def _check_content(doc: Mapping[str, str]) -> None:
    mti = doc.get("t")
    if mti is None or not (len(mti) == 4 and mti.isascii() and mti.isdigit()):
        raise ProfileError(f"MTI {mti!r} is not 4 digits", "t")
    for key, value in doc.items():
        kind = CONTENT.get(key)
        if kind == "n" and not (value.isascii() and value.isdigit()):
            raise ProfileError(f"{value!r} is not numeric", key)
        if kind in ("an", "ans") and not (value.isascii() and value.isprintable()):
            raise ProfileError(f"{value!r} is not printable ASCII", key)


# -- MACs --------------------------------------------------------------------

_MAC_PLACEHOLDER = "00" * _mac.MAC_LENGTH


def apply_mac(fields: Mapping[str, str], key: bytes) -> bytes:
    """Encodes the message with DE 64 set to its MAC under ``key``."""
    raw = encode({**fields, "64": _MAC_PLACEHOLDER})
    body = raw[: -_mac.MAC_LENGTH]
    return body + _mac.mac_message(key, body)


def verify_mac(raw: bytes, key: bytes) -> bool:
    """Whether the encoded message carries DE 64 and that MAC verifies under ``key``.

    DE 64 is the last field of the profile, so it is always the last 8 bytes.
    """
    if len(raw) < 12 + _mac.MAC_LENGTH or not raw[11] & 0x01:
        return False
    return _mac.verify_mac(key, raw[: -_mac.MAC_LENGTH], raw[-_mac.MAC_LENGTH :])


def ksn_of(fields: Mapping[str, str]) -> bytes:
    """The KSN carried in DE 53.

    Raises:
        ProfileError: DE 53 is absent or not 24 hex digits.
    """
    text = fields.get("53")
    if text is None:
        raise ProfileError("no key serial number", "53")
    try:
        _mac.parse_ksn(text)
    except _mac.DukptError as exc:
        raise ProfileError(str(exc), "53") from None
    return bytes.fromhex(text)


def sign(fields: Mapping[str, str], bdk: bytes, ksn: bytes | str | None = None) -> bytes:
    """Encodes and MACs a message with the DUKPT MAC key of ``ksn`` (default: its DE 53)."""
    key_ksn = ksn if ksn is not None else ksn_of(fields)
    return apply_mac(fields, _mac.mac_working_key(bdk, key_ksn))
