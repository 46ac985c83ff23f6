"""The clock of a board that has none, set from the acquirer's echo answer before the first transaction.

After power-on a board's clock reads its port's epoch (2000-01-01 on an
ESP32), and a transaction's DE 7, its journal time and its receipt need the
real one.  So the first send finds the clock unknown (``clock.known``) and
sends an echo test (0800, no MAC): the 0810 carries the acquirer's UTC time
in DE 7.  The wire has no year (MMDDhhmmss); it is the first year in which
that moment is not earlier than a time the terminal knows has passed: the
newest transaction in its journal, or the start of 2026 when it has none.
So a terminal that transacts at least once a year always gets the year right.
The echo is not journalled: it changes nothing at the acquirer.  Loaded only
while the clock is unknown.
"""
from micropython import const

import clock
import kinds
from transmit import Job, stan_for

_ECHO = const(6)  # kinds.TABLE's echo test
_DAY = const(86400)


def _days(year, month, day):
    """Days from 1970-01-01 to the date (the proleptic Gregorian calendar)."""
    year -= month <= 2
    era = year // 400
    of_era = year - era * 400
    of_year = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    return era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468


def moment(told, floor):
    """Unix seconds of DE 7 ``told`` (MMDDhhmmss, UTC) in the first year that puts it at or after ``floor``."""
    month, day = int(told[0:2]), int(told[2:4])
    seconds = int(told[4:6]) * 3600 + int(told[6:8]) * 60 + int(told[8:10])
    year = clock.utc(floor)[0] - 1
    at = _days(year, month, day) * _DAY + seconds
    while at < floor - _DAY:  # a day's slack: the journal's newest time came from a clock that may have run fast
        year += 1
        at = _days(year, month, day) * _DAY + seconds
    return at


async def send(app, on_stage):
    """Asks the acquirer the time and sets the clock: None, or the words key of why it could not."""
    journal = app.journal()
    newest = journal.nth(0)
    floor = newest.time if newest is not None and newest.time >= 1767225600 else 1767225600
    job = Job(_ECHO, kinds.Txn(type=_ECHO, stan=stan_for(journal.next_seq), time=clock.now()))
    lifetime = app.lifetime
    lifetime.drop("journal")
    import link
    lifetime.drop("wire")
    failure, code, _, _, told = await link.send(app.config, getattr(app.board, "network_up", None), job, None,
                                                on_stage)
    link = None
    lifetime.drop("link")
    if failure == "no_connect" or failure == "host_timeout":
        return "host_unreachable"
    if failure is not None or code != "00" or len(told) != 10 or not told.isdigit():
        return "call_bank"
    clock.set(moment(told, floor))
    return None
