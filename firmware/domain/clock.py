"""Wall-clock time as the terminal records and prints it.

The journal and the wire use Unix seconds (UTC) whatever the port's own
epoch is (2000 on some boards, 1970 on the unix port); screens and receipts
show local time, UTC plus the configured offset.
"""
import time

# seconds from 1970-01-01 to the port's epoch
_PORT_EPOCH = 946684800 if time.gmtime(0)[0] == 2000 else 0


def now():
    """Unix seconds, UTC."""
    return int(time.time()) + _PORT_EPOCH


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
