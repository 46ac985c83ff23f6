"""ISO 8583 for the micropos-8583 wire profile: one field table, one small codec.

ISO 8583:1987 with ASCII numerics and ASCII length prefixes, an 8-byte binary
primary bitmap and no secondary bitmap (no field above 64).  The whole profile
is ``_PROFILE`` below, one line per field; the codec only reads that table.

Memory: a ``Message`` owns one slot per profile field inside a single
bytearray sized from the table (the longest value of every field, 223 bytes),
so setting a field twice reuses its slot and nothing fragments.  Encoding,
decoding and MACing loop over bytes instead of slicing, so a message goes in
and out without heap allocation beyond a few small temporary objects.
"""
from micropython import const

# How a field's length is carried: the number of ASCII length digits before
# the data (0 = fixed length, the table's length is the exact length).
FIXED = const(0)
LLVAR = const(2)
LLLVAR = const(3)

# What a field may contain.
N = const(1)  # ASCII digits
AN = const(2)  # letters and digits; space too, since approval codes come space-padded
ANS = const(3)  # printable ASCII, 0x20..0x7E
B = const(4)  # any byte

MAX_MESSAGE = const(2048)
FRAME_HEADER = const(2)
MTI_LENGTH = const(4)
BITMAP_LENGTH = const(8)
MAC_LENGTH = const(8)
MAC_FIELD = const(64)
_HEADER_END = const(12)  # MTI + bitmap
_HIGHEST = const(64)

# The profile, one line per field: number, name, length layout, max length, content.
# Field 0 is the MTI, checked by the same rules; bit 1 (secondary bitmap) is not used.
_PROFILE = (
    (0, "message type indicator", FIXED, 4, N),
    (2, "primary account number", LLVAR, 19, N),
    (3, "processing code", FIXED, 6, N),
    (4, "amount, transaction (minor units)", FIXED, 12, N),
    (7, "transmission date and time, UTC MMDDhhmmss", FIXED, 10, N),
    (11, "system trace audit number", FIXED, 6, N),
    (12, "local time hhmmss", FIXED, 6, N),
    (13, "local date MMDD", FIXED, 4, N),
    (14, "expiration date YYMM", FIXED, 4, N),
    (22, "POS entry mode", FIXED, 3, N),
    (25, "POS condition code", FIXED, 2, N),
    (37, "retrieval reference number", FIXED, 12, AN),
    (38, "approval code", FIXED, 6, AN),
    (39, "response code", FIXED, 2, AN),
    (41, "terminal ID", FIXED, 8, ANS),
    (42, "merchant ID", FIXED, 15, ANS),
    (49, "currency code, ISO 4217 numeric", FIXED, 3, N),
    (53, "key serial number, hex", LLVAR, 24, ANS),
    (60, "batch number", LLLVAR, 6, N),
    (61, "original batch n6, STAN n6, date MMDD n4", LLLVAR, 16, ANS),
    (62, "refund reason code", LLLVAR, 2, N),
    (63, "settlement totals: 3 x (count n3, amount n12)", LLLVAR, 45, ANS),
    (64, "message authentication code", FIXED, 8, B),
)

# The table folded into per-number lookups once, at import.
_LAYOUT = bytearray(_HIGHEST + 1)
_MAX = bytearray(_HIGHEST + 1)
_CONTENT = bytearray(_HIGHEST + 1)  # 0 = not in the profile
_SLOT = [0] * (_HIGHEST + 1)  # offset of the field's slot in Message._data
_FIELDS = bytearray()  # profile field numbers above 0, ascending


def _fold():
    """Fills the lookups; returns (slots size, longest message) of the profile."""
    slot_end = 0
    longest = _HEADER_END
    for de, name, layout, most, content in _PROFILE:
        _LAYOUT[de] = layout
        _MAX[de] = most
        _CONTENT[de] = content
        _SLOT[de] = slot_end
        slot_end += most
        if de:
            _FIELDS.append(de)
            longest += layout + most  # its length digits, then at most ``most`` bytes
    return slot_end, longest


# SLOTS_SIZE: every field at its longest, MTI included.  LONGEST: the largest
# message the profile allows, every field present at its longest; a frame
# announcing more than this cannot be a message of the profile.
SLOTS_SIZE, LONGEST = _fold()
_FIELD_COUNT = len(_FIELDS)

_UNITS = ("", "digits", "characters", "characters", "bytes")
_ZERO = const(0x30)


class EncodeError(ValueError):
    """A value or message the profile does not allow; the text names the field."""


class DecodeError(ValueError):
    """Received bytes that are not a message of the profile; the text names the field."""


def field(de):
    """Field ``de``'s line of the profile (number, name, layout, max length, content), or None."""
    for line in _PROFILE:
        if line[0] == de:
            return line
    return None


def _label(de):
    return "MTI" if de == 0 else "DE %d" % de


def _in_profile(de):
    return 0 <= de <= _HIGHEST and _CONTENT[de] != 0


def _check_content(error, de, buf, start, count):
    """Raises ``error`` unless ``count`` bytes of ``buf`` from ``start`` fit field ``de``'s content class."""
    content = _CONTENT[de]
    if content == B:
        return
    for i in range(start, start + count):
        c = buf[i]
        if content == N:
            ok = 0x30 <= c <= 0x39
        elif content == AN:
            ok = 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c == 0x20
        else:
            ok = 0x20 <= c <= 0x7E
        if not ok:
            raise error("%s: byte 0x%02x at position %d is not %s" % (
                _label(de), c, i - start + 1, ("", "a digit", "alphanumeric", "printable ASCII")[content]))


def _check_length(error, de, count):
    limit = _MAX[de]
    if count > limit:
        raise error("%s: %d %s, at most %d" % (_label(de), count, _UNITS[_CONTENT[de]], limit))
    if _LAYOUT[de] == FIXED and count != limit:
        raise error("%s: %d %s, expected %d" % (_label(de), count, _UNITS[_CONTENT[de]], limit))


def _put_digits(buf, end, value, width):
    """Writes ``value`` as ``width`` ASCII digits ending before ``end``, zero-padded on the left."""
    for i in range(end - 1, end - width - 1, -1):
        buf[i] = _ZERO + value % 10
        value //= 10


def _read_digits(buf, start, count):
    """The number written in ``count`` ASCII digits from ``start``, or -1 if one is not a digit."""
    value = 0
    for i in range(start, start + count):
        c = buf[i] - _ZERO
        if not 0 <= c <= 9:
            return -1
        value = value * 10 + c
    return value


def _bit_is_set(bitmap, start, de):
    return bitmap[start + ((de - 1) >> 3)] & (0x80 >> ((de - 1) & 7))


class Message:
    """One ISO 8583 message: the MTI and the fields, each in its preallocated slot.

    The same object is meant to be cleared and reused for every request and
    response; it holds ``SLOTS_SIZE + 73`` bytes of buffers and never grows.
    """

    def __init__(self, mti=None):
        self._data = bytearray(SLOTS_SIZE)
        self._lengths = bytearray(_HIGHEST + 1)
        self._bitmap = bytearray(BITMAP_LENGTH)  # the wire bitmap is the set of present fields
        self._has_mti = False
        if mti is not None:
            self.set(0, mti)

    def clear(self):
        """Forgets the MTI and every field (the slots keep their stale bytes, unread)."""
        bitmap = self._bitmap
        for i in range(BITMAP_LENGTH):
            bitmap[i] = 0
        self._has_mti = False

    # -- fields ----------------------------------------------------------------

    def set(self, de, value):
        """Sets field ``de`` (0 = the MTI) from a str, bytes-like or non-negative int.

        An int is written as digits zero-padded to the field's maximum length,
        so ``set(4, 1234)`` gives ``000000001234``; only ``n`` fields take ints.
        Raises EncodeError, leaving the field as it was, when the value does not fit.
        """
        if not _in_profile(de):
            raise EncodeError("%s: not in the profile" % _label(de))
        data = self._data
        slot = _SLOT[de]
        limit = _MAX[de]
        if isinstance(value, int):
            if _CONTENT[de] != N:
                raise EncodeError("%s: an int is only for a numeric field" % _label(de))
            if value < 0:
                raise EncodeError("%s: negative value %d" % (_label(de), value))
            count = 1
            rest = value // 10
            while rest:
                count += 1
                rest //= 10
            if count > limit:
                raise EncodeError("%s: %d digits, at most %d" % (_label(de), count, limit))
            _put_digits(data, slot + limit, value, limit)
            count = limit
        else:
            if isinstance(value, str):
                value = memoryview(value)  # its UTF-8 bytes, uncopied: non-ASCII fails the content check
            count = len(value)
            _check_length(EncodeError, de, count)
            _check_content(EncodeError, de, value, 0, count)
            for i in range(count):
                data[slot + i] = value[i]
        self._lengths[de] = count
        self._mark(de)

    def _mark(self, de):
        if de == 0:
            self._has_mti = True
        else:
            self._bitmap[(de - 1) >> 3] |= 0x80 >> ((de - 1) & 7)

    def unset(self, de):
        """Removes field ``de`` (no error when it was absent)."""
        if not _in_profile(de):
            raise EncodeError("%s: not in the profile" % _label(de))
        if de == 0:
            self._has_mti = False
        else:
            self._bitmap[(de - 1) >> 3] &= ~(0x80 >> ((de - 1) & 7)) & 0xFF

    def has(self, de):
        """Whether field ``de`` (0 = the MTI) is present."""
        if not _in_profile(de):
            return False
        if de == 0:
            return self._has_mti
        return bool(_bit_is_set(self._bitmap, 0, de))

    def get(self, de):
        """Field ``de``'s bytes as a memoryview into this message (valid until it changes), or None."""
        if not self.has(de):
            return None
        slot = _SLOT[de]
        return memoryview(self._data)[slot:slot + self._lengths[de]]

    def get_int(self, de):
        """Numeric field ``de`` as an int, or None when absent; no memoryview is made."""
        if not self.has(de):
            return None
        return _read_digits(self._data, _SLOT[de], self._lengths[de])

    def get_str(self, de):
        """Field ``de`` as a new str (allocates: for display and logs), or None."""
        value = self.get(de)
        return None if value is None else str(value, "ascii")

    def same(self, de, other):
        """Whether field ``de`` is present in both messages with equal bytes (a response check)."""
        if not (self.has(de) and other.has(de)):
            return False
        count = self._lengths[de]
        if other._lengths[de] != count:
            return False
        mine = self._data
        theirs = other._data
        slot = _SLOT[de]
        for i in range(slot, slot + count):
            if mine[i] != theirs[i]:
                return False
        return True

    def copy_from(self, other, de):
        """Copies field ``de`` from ``other`` if it has it (a reversal repeats its request's fields)."""
        if not other.has(de):
            return
        count = other._lengths[de]
        slot = _SLOT[de]
        mine = self._data
        theirs = other._data
        for i in range(slot, slot + count):
            mine[i] = theirs[i]
        self._lengths[de] = count
        self._mark(de)

    # -- wire ------------------------------------------------------------------

    def encode(self, out, start=0, mac=None):
        """Writes the message into ``out`` from ``start``; returns its length.

        With ``mac`` (an object with ``mac8(data, out)``, e.g. ``cmac.Cmac``), DE 64
        is added and filled with the MAC of the encoded bytes, in ``out`` and here.
        """
        if not self._has_mti:
            raise EncodeError("MTI: not set")
        if mac is not None:
            self._lengths[MAC_FIELD] = MAC_LENGTH
            self._mark(MAC_FIELD)
        capacity = len(out)
        data = self._data
        lengths = self._lengths
        bitmap = self._bitmap
        pos = start + _HEADER_END
        if pos > capacity:
            raise EncodeError("buffer of %d bytes too small" % capacity)
        for i in range(MTI_LENGTH):
            out[start + i] = data[i]
        for i in range(BITMAP_LENGTH):
            out[start + MTI_LENGTH + i] = bitmap[i]
        for f in range(_FIELD_COUNT):
            de = _FIELDS[f]
            if not _bit_is_set(bitmap, 0, de):
                continue
            count = lengths[de]
            digits = _LAYOUT[de]
            if pos + digits + count > capacity or pos + digits + count - start > MAX_MESSAGE:
                raise EncodeError("%s: does not fit in %d bytes" % (_label(de), min(capacity - start, MAX_MESSAGE)))
            if digits:
                _put_digits(out, pos + digits, count, digits)
                pos += digits
            slot = _SLOT[de]
            for i in range(count):
                out[pos + i] = data[slot + i]
            pos += count
        length = pos - start
        if mac is not None:
            span, mac_at = mac_span(out, length, start)
            mac.mac8(span, memoryview(out)[mac_at:mac_at + MAC_LENGTH])
            slot = _SLOT[MAC_FIELD]
            for i in range(MAC_LENGTH):
                data[slot + i] = out[mac_at + i]
        return length

    def encode_framed(self, out, mac=None):
        """Encodes after a 2-byte length header at ``out[0:2]``; returns header + message length."""
        length = self.encode(out, FRAME_HEADER, mac)
        write_frame_header(out, length)
        return FRAME_HEADER + length

    def decode(self, buf, length, start=0):
        """Parses the ``length`` bytes of ``buf`` from ``start`` into this message.

        Raises DecodeError naming the field at fault; the message is then
        cleared, so a half-parsed message is never mistaken for a whole one.
        """
        self.clear()
        try:
            self._decode(buf, length, start)
        except DecodeError:
            self.clear()
            raise

    def _decode(self, buf, length, start):
        if length > MAX_MESSAGE:
            raise DecodeError("message of %d bytes, at most %d" % (length, MAX_MESSAGE))
        if length < _HEADER_END:
            raise DecodeError("message of %d bytes, shorter than MTI and bitmap" % length)
        if start + length > len(buf):
            raise DecodeError("message of %d bytes overruns a buffer of %d" % (length, len(buf)))
        end = start + length
        data = self._data
        lengths = self._lengths
        _check_content(DecodeError, 0, buf, start, MTI_LENGTH)
        for i in range(MTI_LENGTH):
            data[i] = buf[start + i]
        lengths[0] = MTI_LENGTH
        bitmap_at = start + MTI_LENGTH
        if buf[bitmap_at] & 0x80:
            raise DecodeError("DE 1: secondary bitmap, not in the profile")
        for de in range(2, _HIGHEST + 1):
            if _bit_is_set(buf, bitmap_at, de) and not _CONTENT[de]:
                raise DecodeError("DE %d: not in the profile" % de)
        pos = start + _HEADER_END
        for f in range(_FIELD_COUNT):
            de = _FIELDS[f]
            if not _bit_is_set(buf, bitmap_at, de):
                continue
            digits = _LAYOUT[de]
            if digits:
                if pos + digits > end:
                    raise DecodeError("DE %d: truncated in its length" % de)
                count = _read_digits(buf, pos, digits)
                if count < 0:
                    raise DecodeError("DE %d: length prefix is not %d digits" % (de, digits))
                pos += digits
            else:
                count = _MAX[de]
            _check_length(DecodeError, de, count)
            if pos + count > end:
                raise DecodeError("DE %d: truncated, %d of %d bytes" % (de, end - pos, count))
            _check_content(DecodeError, de, buf, pos, count)
            slot = _SLOT[de]
            for i in range(count):
                data[slot + i] = buf[pos + i]
            lengths[de] = count
            pos += count
        if pos != end:
            raise DecodeError("%d bytes after the last field" % (end - pos))
        bitmap = self._bitmap
        for i in range(BITMAP_LENGTH):
            bitmap[i] = buf[bitmap_at + i]
        self._has_mti = True


# -- DE 64 -------------------------------------------------------------------


def mac_span(buf, length, start=0):
    """(bytes the MAC covers, where its 8 bytes go) for an encoded message in ``buf``.

    DE 64 is the profile's last field and fixed at 8 bytes, so in a message
    that carries it (bit 64 set) the MAC is the last 8 bytes and covers all
    before them: MTI, the bitmap with bit 64 set, every other field.  Use it on
    a message that encode() wrote or decode() accepted.  Returns a memoryview
    into ``buf`` (no copy) and the MAC's offset in ``buf``.
    """
    if length < _HEADER_END + MAC_LENGTH or not _bit_is_set(buf, start + MTI_LENGTH, MAC_FIELD):
        raise DecodeError("DE 64: absent")
    mac_at = start + length - MAC_LENGTH
    return memoryview(buf)[start:mac_at], mac_at


# -- framing -----------------------------------------------------------------


def write_frame_header(buf, length):
    """Writes the 2-byte big-endian length of a ``length``-byte message at ``buf[0:2]``."""
    if not 0 < length <= MAX_MESSAGE:
        raise EncodeError("frame length %d, expected 1..%d" % (length, MAX_MESSAGE))
    buf[0] = length >> 8
    buf[1] = length & 0xFF


def read_frame_header(header):
    """The message length a 2-byte header announces; DecodeError for 0 or above 2048."""
    if len(header) < FRAME_HEADER:
        raise DecodeError("frame header of %d bytes, expected %d" % (len(header), FRAME_HEADER))
    length = (header[0] << 8) | header[1]
    if not 0 < length <= MAX_MESSAGE:
        raise DecodeError("frame length %d, expected 1..%d" % (length, MAX_MESSAGE))
    return length
