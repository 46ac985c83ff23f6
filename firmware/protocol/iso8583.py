"""ISO 8583 for the micropos-8583 wire profile: one field table, one small codec.

ISO 8583:1987 with ASCII numerics and ASCII length prefixes, an 8-byte binary
primary bitmap and no secondary bitmap (no field above 64).  The whole profile
is ``_PROFILE`` below, one line per field; the codec only reads that table.

Memory: a ``Message`` owns one slot per profile field inside a single
bytearray sized from the table (the longest value of every field, 238 bytes),
so setting a field twice reuses its slot and nothing fragments.  Encoding,
decoding and MACing loop over bytes instead of slicing, so a message goes in
and out without heap allocation beyond a few small temporary objects.
"""
from micropython import const

# How a field's length is carried: the number of ASCII length digits before
# the data (0 = fixed length, the table's length is the exact length).
_FIXED = const(0)

# What a field may contain: the table's N, AN, ANS, B.
_N = const(1)  # ASCII digits
_AN = const(2)  # letters and digits; space too, since approval codes come space-padded
_ANS = const(3)  # printable ASCII, 0x20..0x7E
_B = const(4)  # any byte

MAX_MESSAGE = const(2048)
MAC_LENGTH = const(8)
_MTI_LENGTH = const(4)
_BITMAP_LENGTH = const(8)
_MAC_FIELD = const(64)
_HEADER_END = const(12)  # MTI + bitmap
_HIGHEST = const(64)

# The profile, one line per field: number, length layout, max length, content, name.
# Field 0 is the MTI, checked by the same rules; bit 1 (secondary bitmap) is not used.
# Text rather than a tuple of tuples: it stays in flash, where 23 row tuples
# and their names would take about 2.5 KB of RAM.
_PROFILE = """\
 0  FIXED   4  N    message type indicator
 2  LLVAR  19  ANS  primary account number (digits; a batch upload's is masked, first 6 ****** last 4)
 3  FIXED   6  N    processing code
 4  FIXED  12  N    amount, transaction (minor units)
 7  FIXED  10  N    transmission date and time, UTC MMDDhhmmss
11  FIXED   6  N    system trace audit number
12  FIXED   6  N    local time hhmmss
13  FIXED   4  N    local date MMDD
14  FIXED   4  N    expiration date YYMM
22  FIXED   3  N    POS entry mode
25  FIXED   2  N    POS condition code
37  FIXED  12  AN   retrieval reference number
38  FIXED   6  AN   approval code
39  FIXED   2  AN   response code
41  FIXED   8  ANS  terminal ID
42  FIXED  15  ANS  merchant ID
49  FIXED   3  N    currency code, ISO 4217 numeric
53  LLVAR  24  ANS  key serial number, hex
54  LLLVAR 15  ANS  amount left to refund on the original: currency n3, amount n12
60  LLLVAR  6  N    batch number
61  LLLVAR 16  ANS  original batch n6, STAN n6, date MMDD n4
62  LLLVAR  2  N    refund reason code
63  LLLVAR 45  ANS  settlement totals: 3 x (count n3, amount n12)
64  FIXED   8  B    message authentication code
"""


def _parse(line):
    """(number, name, layout, max length, content) of one line of the table."""
    words = line.split(None, 4)
    layout = words[1]
    return (int(words[0]), words[4], _FIXED if layout == "FIXED" else layout.count("L"),
            int(words[2]), ("", "N", "AN", "ANS", "B").index(words[3]))


# The table folded into per-number lookups once, at import.
_LAYOUT = bytearray(_HIGHEST + 1)
_MAX = bytearray(_HIGHEST + 1)
_CONTENT = bytearray(_HIGHEST + 1)  # 0 = not in the profile
_SLOT = bytearray(_HIGHEST + 1)  # offset of the field's slot in Message._data
_FIELDS = bytearray()  # profile field numbers above 0, ascending


def _fold():
    """Fills the lookups; returns (slots size, longest message) of the profile."""
    slot_end = 0
    longest = _HEADER_END
    for line in _PROFILE.splitlines():
        de, name, layout, most, content = _parse(line)
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

_ZERO = const(0x30)


class EncodeError(ValueError):
    """A value or message the profile does not allow; the text names the field."""


class DecodeError(ValueError):
    """Received bytes that are not a message of the profile; the text names the field."""


def field(de):
    """Field ``de``'s line of the profile (number, name, layout, max length, content), or None."""
    for line in _PROFILE.splitlines():
        if int(line.split(None, 1)[0]) == de:
            return _parse(line)
    return None


def _label(de):
    return "MTI" if de == 0 else "DE %d" % de


def _in_profile(de):
    return 0 <= de <= _HIGHEST and _CONTENT[de] != 0


def _check_content(error, de, buf, start, count):
    """Raises ``error`` unless ``count`` bytes of ``buf`` from ``start`` fit field ``de``'s content class."""
    content = _CONTENT[de]
    if content == _B:
        return
    for i in range(start, start + count):
        c = buf[i]
        if content == _N:
            ok = 0x30 <= c <= 0x39
        elif content == _AN:
            ok = 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c == 0x20
        else:
            ok = 0x20 <= c <= 0x7E
        if not ok:
            raise error("%s: byte 0x%02x at position %d is not %s" % (
                _label(de), c, i - start + 1, ("", "a digit", "alphanumeric", "printable ASCII")[content]))


def _check_length(error, de, count):
    limit = _MAX[de]
    if count > limit or _LAYOUT[de] == _FIXED and count != limit:
        units = ("", "digits", "characters", "characters", "bytes")[_CONTENT[de]]  # by content (a name costs a qstr)
        raise error("%s: %d %s, %s %d" % (_label(de), count, units, "at most" if count > limit else "expected", limit))


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
        self._bitmap = bytearray(_BITMAP_LENGTH)  # the wire bitmap is the set of present fields
        self._has_mti = False
        if mti is not None:
            self.set(0, mti)

    def clear(self):
        """Forgets the MTI and every field (the slots keep their stale bytes, unread)."""
        bitmap = self._bitmap
        for i in range(_BITMAP_LENGTH):
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
            if _CONTENT[de] != _N:
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
                # its UTF-8 bytes, uncopied (MicroPython allows it): non-ASCII fails the content check
                value = memoryview(value)  # pyright: ignore[reportArgumentType]
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

    # -- wire ------------------------------------------------------------------

    def encode(self, out, start=0, mac=None):
        """Writes the message into ``out`` from ``start``; returns its length.

        With ``mac`` (an object with ``mac8(data, out)``, e.g. ``cmac.Cmac``), DE 64
        is added and filled with the MAC of the encoded bytes, in ``out`` and here.
        """
        if not self._has_mti:
            raise EncodeError("MTI: not set")
        if mac is not None:
            self._lengths[_MAC_FIELD] = MAC_LENGTH
            self._mark(_MAC_FIELD)
        capacity = len(out)
        data = self._data
        lengths = self._lengths
        bitmap = self._bitmap
        pos = start + _HEADER_END
        if pos > capacity:
            raise EncodeError("buffer of %d bytes too small" % capacity)
        for i in range(_MTI_LENGTH):
            out[start + i] = data[i]
        for i in range(_BITMAP_LENGTH):
            out[start + _MTI_LENGTH + i] = bitmap[i]
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
            slot = _SLOT[_MAC_FIELD]
            for i in range(MAC_LENGTH):
                data[slot + i] = out[mac_at + i]
        return length

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
        _check_content(DecodeError, 0, buf, start, _MTI_LENGTH)
        for i in range(_MTI_LENGTH):
            data[i] = buf[start + i]
        lengths[0] = _MTI_LENGTH
        bitmap_at = start + _MTI_LENGTH
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
        for i in range(_BITMAP_LENGTH):
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
    if length < _HEADER_END + MAC_LENGTH or not _bit_is_set(buf, start + _MTI_LENGTH, _MAC_FIELD):
        raise DecodeError("DE 64: absent")
    mac_at = start + length - MAC_LENGTH
    return memoryview(buf)[start:mac_at], mac_at
