"""The transaction vocabulary: message kinds, statuses, entry modes, and ``Txn``.

``TABLE`` is the project's one table of message kinds (docs/protocol.md,
"Messages"): the number a journal record stores for the kind, its name, the
request's MTI and processing code (DE 3; ``------`` for a reversal, which
repeats the reversed request's), then every field the request carries, in
order.  A field marked ``?`` is sent only when it has a value (no card on a
reference-only refund); the acquirer requires every other one.  A batch
upload (``UPLOAD``, one per approved transaction of a batch whose totals the
acquirer disputed) repeats the uploaded transaction's processing code;
``UPLOAD_END`` closes the batch.  The
firmware's request builder (``protocol/messages.py``) and the acquirer
emulator's mandatory-field rules both read it.  Bytes, so it stays in
flash and reading it allocates nothing.

These names live apart from the journal, so that a screen can name a refund
and a send can hold a transaction without loading the journal's code.  This
module is resident: never dropped from memory.
"""
from micropython import const

TABLE = b"""
1 SALE       0200 000000 2 3 4 7 11 12 13 14 22 25 41 42 49 53 60 64
2 REFUND     0200 200000 2? 3 4 7 11 12 13 14? 22 25 37 41 42 49 53 60 61 62 64
3 VOID       0200 020000 2 3 4 7 11 12 13 22 25 37 41 42 49 53 60 61 64
4 REVERSAL   0400 ------ 3 4 7 11 12 13 22 37? 39 41 42 49 53 60 61? 64
5 SETTLEMENT 0500 920000 3 7 11 41 42 49 53 60 63 64
6 ECHO       0800 990000 3 7 11 41 42
7 UPLOAD     0320 ------ 2? 3 4 7 11 12 13 37 41 42 49 53 60 61? 64
8 UPLOAD_END 0320 960000 3 7 11 41 42 49 53 60 63 64
"""
SALE = const(1)
REFUND = const(2)
VOID = const(3)
REVERSAL = const(4)
SETTLEMENT = const(5)

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

_NAME_AT = const(2)  # a line: number, space, name padded to 10, space, MTI, space, DE 3, fields
_MTI_AT = const(13)
_PROCESSING_AT = const(18)
_FIELDS_AT = const(25)


def _line(kind):
    """Offset of ``kind``'s line in TABLE, and of its end."""
    at = TABLE.find(b"\n%d " % kind) + 1
    if at <= 0:
        raise ValueError("no message kind %d" % kind)
    return at, TABLE.find(b"\n", at)


def type_name(kind):
    """SALE, REFUND...: the kind's name as screens, receipts and the export write it."""
    at, _ = _line(kind)
    return TABLE[at + _NAME_AT:at + _MTI_AT - 1].decode().rstrip()


def mti(kind):
    """The request's MTI, as bytes (b"0200")."""
    at, _ = _line(kind)
    return TABLE[at + _MTI_AT:at + _MTI_AT + 4]


def processing_code(kind):
    """The request's DE 3 as bytes, or None for a reversal (it repeats the reversed request's)."""
    at, _ = _line(kind)
    code = TABLE[at + _PROCESSING_AT:at + _PROCESSING_AT + 6]
    return None if code[0] == 45 else code  # 45: '-'


def request_fields(kind):
    """Yields (field number, optional) for every field of ``kind``'s request, in order."""
    at, end = _line(kind)
    value = 0
    for i in range(at + _FIELDS_AT, end + 1):
        c = TABLE[i]
        if 48 <= c <= 57:
            value = value * 10 + c - 48
        elif value:
            if c == 63:  # '?'
                yield value, True
                value = 0
            else:
                yield value, False
                value = 0


class JournalFull(Exception):
    """Only unsettled records remain: new work is refused until a settlement.

    Defined here, not in the journal: the journal's module is dropped from
    memory between uses (``app/lifetime.py``) and is a new module, with new
    classes, at each load, so an ``except`` naming its class would miss what
    another load raised.  This module is never dropped.
    """


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
            self.seq, type_name(self.type), STATUS_NAMES[self.status], self.pan, self.amount, self.stan, self.rrn)
