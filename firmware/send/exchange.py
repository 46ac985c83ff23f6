"""Sending a transaction: reversals owed first, the journal before the wire, the outcome after.

The order is what makes a power cut or a dead network harmless:
1. a reversal still owed is sent first; while one cannot be delivered no new
   transaction goes out;
2. the transaction is journalled as pending (write-ahead), which also fixes
   its STAN and its KSN counter: both come from the journal's sequence number,
   so they survive reboots and never repeat;
3. the request is built from that record, MACed with the DUKPT key of its
   KSN, and sent (``transmit``);
4. the response must answer it (MTI, DE 11, 41, 4) and carry a MAC that
   verifies; anything else counts as no response;
5. the outcome is journalled, then the receipts print.
No response, or a rejected one, journals a reversal before the cashier is
told.  At boot, a transaction journalled without an outcome gets its
reversal journalled and sent (``reversals.deliver``).

The send returns a ``transmit.Outcome``; it never builds a screen (the flow
that started it draws the outcome).
"""
import clock
import kinds
from kinds import JournalFull
from transmit import Outcome, journal_outcome, send_one, stan_for


def _journal_pending(app, job):
    """Write-ahead: journals the job's transaction as pending: its seq, or the words key of why not.

    A settlement is always possible; anything else is refused when the
    batch holds ``config.batch_limit`` approved transactions (DE 63 counts
    them in 3 digits) or the journal holds only unsettled records.
    """
    journal = app.journal()
    txn = job.txn
    if txn.type == kinds.SETTLEMENT:
        job.totals = journal.totals()
    elif journal.batch_full(app.config.batch_limit):
        return "batch_full"
    txn.stan = stan_for(journal.next_seq)
    txn.time = clock.now()
    try:
        return journal.append_pending(txn)
    except JournalFull:
        return "journal_full"


async def send(app, job, on_stage):
    """The whole send of one transaction: its ``Outcome``.

    Each part loads only what it needs: the journal to write ahead, the
    link for the message, the journal again for the outcome, then the receipt.
    """
    delivered = False
    if not clock.known():  # a board after power-on: the acquirer tells the time (nothing is sent without it)
        import settime
        stuck = await settime.send(app, on_stage)
        settime = None
        app.lifetime.drop("clock")
        if stuck:
            return Outcome("no_clock", code=stuck)
    if app.reversals_owed:
        import reversals
        said = await reversals.deliver(app, on_stage)
        if said is not None and said != "reversal_sent":
            return Outcome("reversal_first", code=said)
        delivered = said is not None
    seq = _journal_pending(app, job)
    if isinstance(seq, str):
        return Outcome(seq)
    txn = job.txn
    done = False
    left = ""
    if txn.type == kinds.SETTLEMENT:  # with the batch upload after a 95
        import settlement
        failure, code, rrn, auth, done = await settlement.send(app, job, seq, on_stage)
        settlement = None
    else:
        failure, code, rrn, auth, left = await send_one(app, job, seq, on_stage)
    job.pan = job.expiry = ""
    if failure == "no_connect":
        app.journal().set_outcome(seq, kinds.FAILED)
        txn.status = kinds.FAILED
        outcome = Outcome(failure, txn)
    elif failure is not None and txn.type == kinds.SETTLEMENT:
        app.reversals_owed += 1  # nothing to undo: the same settlement goes again before anything else
        outcome = Outcome(failure, txn)
    elif failure is not None:
        import reversals
        reversals.owe(app, txn, 98 if failure == "host_timeout" else 6)  # DE 39: no response, or response rejected
        outcome = Outcome(failure, txn)
    else:
        journal_outcome(app, txn, seq, code, rrn, auth, done)
        outcome = Outcome(None, txn, code)
        if len(left) == 15 and left[3:].isdigit():
            outcome.left = int(left[3:])
        if txn.status == kinds.APPROVED and txn.type == kinds.SETTLEMENT:
            import report  # the settlement report, the merchant's only
            outcome.printed = report.settlement(app, txn)
        elif txn.status == kinds.APPROVED:
            import receipt
            outcome.printed = receipt.print_both(app, txn)
    outcome.reversed = delivered
    return outcome

