"""Wall-clock time as the terminal records and prints it.

The journal and the wire use Unix seconds (UTC) whatever the port's own
epoch is (2000 on some boards, 1970 on the unix port); screens and receipts
show local time, UTC plus the configured offset.
"""
import time

# seconds from 1970-01-01 to the port's epoch
_PORT_EPOCH = 946684800 if time.gmtime(0)[0] == 2000 else 0
_skew = 0  # seconds the port's clock is behind: set from the acquirer when the board had no time


def now():
    """Unix seconds, UTC."""
    return int(time.time()) + _PORT_EPOCH + _skew


def known():
    """Whether the clock holds the time: a board's starts at its port's epoch after power-on.

    Anything before 2026 (when this firmware was written) is a clock never set.
    """
    return now() >= 1767225600


def set(unix_seconds):
    """From now on ``now()`` counts from ``unix_seconds`` (the acquirer's time, see send/settime.py)."""
    global _skew
    _skew += unix_seconds - now()


def utc(unix_seconds):
    """(year, month, day, hour, minute, second, ...) in UTC."""
    return time.gmtime(unix_seconds - _PORT_EPOCH)


def local(unix_seconds, offset_min):
    """The same tuple in local time."""
    return time.gmtime(unix_seconds - _PORT_EPOCH + offset_min * 60)


def local_mmdd(unix_seconds, offset_min):
    """The local date as the number MMDD (11 November -> 1111), as original dates are keyed."""
    t = local(unix_seconds, offset_min)
    return t[1] * 100 + t[2]
