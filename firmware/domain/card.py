"""Card data as the terminal may hold it: checks, track 2 parsing, masking.

Only the PAN and expiry are kept, and only for the transaction in flight;
what is stored or printed is first 6 + last 4.  Track data beyond PAN and
expiry (service code, discretionary data) is read past and never kept.
"""
from micropython import const

_MIN_PAN = const(12)
_MAX_PAN = const(19)


def luhn_ok(pan):
    """The Luhn (mod 10) check digit of a PAN, as card numbers carry it.

    The digits are read as bytes: indexing a str would intern each digit for good (a qstr).
    """
    total = 0
    double = False
    digits = memoryview(pan)
    for i in range(len(digits) - 1, -1, -1):
        d = digits[i] - 48
        if d < 0 or d > 9:
            return False
        if double:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        double = not double
    return total % 10 == 0


def pan_error(pan):
    """None for an acceptable PAN, else the message key saying why not."""
    if not (_MIN_PAN <= len(pan) <= _MAX_PAN):
        return "pan_length"
    if not luhn_ok(pan):
        return "pan_luhn"
    return None


def expiry_error(yymm):
    if len(yymm) != 4 or not yymm.isdigit():
        return "expiry_format"
    month = int(yymm[2:])
    if not 1 <= month <= 12:
        return "expiry_format"
    return None


def parse_track2(data):
    """PAN and expiry (YYMM) from track 2 as a reader sends it: ``;PAN=YYMM...?``.

    Returns (pan, expiry) or None when the data is not a readable track 2.
    """
    if isinstance(data, (bytes, bytearray)):
        data = data.decode()
    data = data.strip()
    if data.startswith(";"):
        data = data[1:]
    end = data.find("?")
    if end >= 0:
        data = data[:end]
    sep = data.find("=")
    if sep < 0:
        sep = data.find("D")  # the separator as some readers send it
    if sep < 0:
        return None
    pan = data[:sep]
    expiry = data[sep + 1:sep + 5]
    if pan_error(pan) or expiry_error(expiry):
        return None
    return pan, expiry


def masked(pan):
    """First 6 and last 4 with the middle hidden, as screens and receipts show it."""
    if len(pan) < 10:
        return "*" * len(pan)
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def truncated(pan):
    """First 6 + last 4 digits: all of a PAN the journal may keep."""
    return pan[:6] + pan[-4:] if len(pan) >= 10 else pan
