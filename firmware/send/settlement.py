"""A settlement on the wire: the 0500, and when the acquirer's totals differ (95) the batch upload that closes it.

protocol.md: after a 95 the terminal sends each approved sale, refund and
void of the batch (0320, answered 00 each), then the upload's end (0320,
DE 3 960000, its own totals in DE 63), whose 00 closes the batch.  The
messages are not journalled one by one: one journal mark sets aside a seq
for each (its KSN counter; the end's STAN), so no KSN serves twice.

Until the acquirer has said the batch is closed or open, the settlement
stays pending in the journal: a power cut, no answer or an answer the
terminal rejects leave it owed, and it is sent again, the same request,
before anything else (``reversals.deliver``): the acquirer answers a
repeat with its first answer, and a batch it already closed with 00.
Loaded only for a settlement.
"""
from micropython import const

import clock
import kinds
from transmit import Job, send_one, stan_for

_UPLOAD = const(7)  # kinds.TABLE: one transaction of the batch
_UPLOAD_END = const(8)
_CHUNK = const(8)  # transactions read back from the journal per pass: a few Txn in the heap, not the batch


def _batch_seqs(app, batch):
    """The seqs of the batch's approved sales, refunds and voids, newest first (ints, not transactions)."""
    from array import array
    seqs = array("I")
    for txn in app.journal().history():
        if txn.batch != batch:
            break
        if txn.status == kinds.APPROVED and txn.type in (kinds.SALE, kinds.REFUND, kinds.VOID):
            seqs.append(txn.seq)
    return seqs


def _chunk(app, rows, at):
    """The transactions of seqs ``rows``[at:at + _CHUNK], read back in one pass."""
    wanted = rows[at:at + _CHUNK]
    found = []
    journal = app.journal()
    for txn in journal.history():
        if any(txn.seq == want for want in wanted):  # (an array has no "in" on MicroPython)
            # a void's DE 61 names its sale (an attribute a Txn read back does not otherwise have)
            txn.original = journal.find_sale(txn.orig_rrn) if txn.type == kinds.VOID else None
            found.append(txn)
            if len(found) == len(wanted):
                break
    return found


async def _upload(app, job, on_stage):
    """The batch upload after a 95: (failure, code, RRN, approval code) of its end, or of what stopped it."""
    batch = job.txn.batch
    seqs = _batch_seqs(app, batch)
    first = app.journal().reserve(len(seqs) + 1)
    at = 0
    while at < len(seqs):
        txns = _chunk(app, seqs, at)
        if not txns:  # gone from the journal meanwhile: the end is not sent
            return None, "95", "", ""
        for txn in txns:
            part = Job(_UPLOAD, txn)
            part.original = txn.original
            failure, code, rrn, auth, _ = await send_one(app, part, first + at, on_stage)
            at += 1
            if failure is not None or code != "00":
                # the end never went, so the batch is open on both sides: a definite "not closed"
                return None, "95", "", ""
    end = kinds.Txn(type=kinds.SETTLEMENT, stan=stan_for(first + at), time=clock.now())
    end.batch = batch
    part = Job(_UPLOAD_END, end)
    part.totals = job.totals
    failure, code, rrn, auth, _ = await send_one(app, part, first + at, on_stage)
    if failure == "no_connect":
        return None, "95", "", ""
    return failure, code, rrn, auth


async def send(app, job, seq, on_stage):
    """The settlement ``job``, journalled as ``seq``: (failure, code, RRN, approval code, uploaded).

    ``uploaded``: the acquirer's totals differed (the code is 95) and the
    batch upload closed the batch (its end answered 00, with this RRN).
    """
    failure, code, rrn, auth, _ = await send_one(app, job, seq, on_stage)
    if failure is not None or code != "95":
        return failure, code, rrn, auth, False
    failure, code, rrn, auth = await _upload(app, job, on_stage)
    if failure is None and code == "00":
        return None, "95", rrn, auth, True
    return failure, code, rrn, auth, False
