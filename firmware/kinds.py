"""The transaction vocabulary shared by the flows, the wire and the journal.

The numbers are what journal records store (docs/journal-format.md); they
live here, apart from the journal, so a screen can name a refund without
loading the journal's code.
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
