"""The transaction vocabulary shared by the flows, the wire and the journal.

The numbers are what journal records store (docs/journal-format.md); they
and ``Txn`` live here, apart from the journal, so a screen can name a refund
and a send can hold a transaction without loading the journal's code.
"""
from micropython import const

SALE = const(1)
REFUND = const(2)
VOID = const(3)
REVERSAL = const(4)
SETTLEMENT = const(5)
TYPE_NAMES = ("", "SALE", "REFUND", "VOID", "REVERSAL", "SETTLEMENT")

PENDING = const(0)  # never stored: a pending record without outcome is PENDING
APPROVED = const(1)
DECLINED = const(2)
FAILED = const(3)
REVERSED = const(4)
STATUS_NAMES = ("PENDING", "APPROVED", "DECLINED", "FAILED", "REVERSED")

# POS entry mode: the journal's two bits, and DE 22 for each
ENTRY_NONE = const(0)
ENTRY_KEYED = const(1)
ENTRY_SWIPE = const(2)
ENTRY_CONTACTLESS = const(3)
ENTRY_CODES = ("010", "012", "022", "072")


class Txn:
    """One transaction as the journal knows it: what was sent, and its latest outcome.

    `pan` given to append_pending may be the full PAN: only its first 6 and
    last 4 digits and its length are stored; read back it is masked.
    """

    def __init__(self, type=SALE, amount=0, currency=156, stan=0, time=0, pan="", entry=ENTRY_NONE, reason=0,
                 orig_rrn="", orig_date=0):
        self.seq = 0
        self.type = type
        self.amount = amount
        self.currency = currency
        self.stan = stan
        self.time = time
        self.pan = pan
        self.entry = entry
        self.reason = reason
        self.orig_rrn = orig_rrn
        self.orig_date = orig_date  # MMDD as a number, 0 when unknown
        self.batch = 0
        self.status = PENDING
        self.rrn = ""
        self.auth_code = ""
        self.response_code = ""

    def __repr__(self):
        return "Txn(seq={}, {} {} {} amount={} stan={} rrn={!r})".format(
            self.seq, TYPE_NAMES[self.type], STATUS_NAMES[self.status], self.pan, self.amount, self.stan, self.rrn)
