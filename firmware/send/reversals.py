"""What is owed before anything else: reversals, and a settlement whose answer was never journalled.

A request that got no acceptable response, or that a power cut left without
an outcome, may have been applied by the acquirer: it is undone by a
reversal (0400) that repeats its fields.  The reversal is journalled first,
then sent before the next transaction; while one cannot be delivered, no new
transaction goes out.  A settlement in the same state is not undone but
sent again, the same request (``settlement``): the acquirer answers a
repeat with its first answer, so both sides agree on the batch before a new
transaction joins one.  This module is loaded only when something is owed.
"""
import kinds
from transmit import Job, journal_outcome, send_one


def _reversal_of(txn, reason):
    return kinds.Txn(type=kinds.REVERSAL, amount=txn.amount, currency=txn.currency, stan=txn.stan,
                     time=txn.time, pan=txn.pan, entry=txn.entry, reason=reason, orig_rrn=txn.orig_rrn,
                     orig_date=txn.orig_date)


def owe(app, txn, reason):
    """Journals that ``txn`` must be reversed; it is sent before the next transaction."""
    app.journal().append_pending(_reversal_of(txn, reason))
    app.reversals_owed += 1


def _reverses(reversal, txn):
    """Whether journalled ``reversal`` is the one for request ``txn``: it repeats its STAN and DE 7 time."""
    return reversal.type == kinds.REVERSAL and txn.type != kinds.REVERSAL and reversal.seq > txn.seq \
        and reversal.stan == txn.stan and reversal.time == txn.time


def _reversed_request(journal, reversal):
    for txn in journal.history():
        if _reverses(reversal, txn):
            return txn
    return None


def queue_lost(app):
    """Journals a reversal for each transaction a power cut left without outcome; returns how many are owed."""
    journal = app.journal()
    pending = journal.pending_without_outcome()
    owed = 0
    for txn in pending:
        if txn.type == kinds.REVERSAL or txn.type == kinds.SETTLEMENT:
            owed += 1
        elif not any(_reverses(other, txn) for other in pending):
            journal.append_pending(_reversal_of(txn, 98))  # DE 39 98: no response
            owed += 1
    app.reversals_owed = owed
    return owed


def _next(app):
    """(reversal seq, the request it reverses) of the oldest reversal owed, or None."""
    journal = app.journal()
    for reversal in journal.pending_without_outcome():
        if reversal.type == kinds.SETTLEMENT:
            job = Job(kinds.SETTLEMENT, reversal)
            job.totals = journal.totals()  # the batch is as it was when it was first sent: the same request
            return reversal.seq, job
        if reversal.type != kinds.REVERSAL:
            continue
        original = _reversed_request(journal, reversal)
        if original is None:  # its request is gone from the journal: nothing left to rebuild
            journal.set_outcome(reversal.seq, kinds.FAILED)
            app.reversals_owed -= 1
            continue
        job = Job(kinds.REVERSAL, original)
        job.reversal_reason = reversal.reason
        if original.type == kinds.VOID:
            job.original = journal.find_sale(original.orig_rrn)
        return reversal.seq, job
    return None


async def deliver(app, on_stage):
    """Sends every reversal owed, oldest first, and says so in a words key.

    "reversal_sent" when one or more went and all are delivered, None when
    none was owed after all, else why one was not: "host_unreachable" (no
    connection or no answer: it goes again later by itself) or
    "reversal_refused" (the acquirer answered, but not 00, or with an answer
    the terminal rejects, a bad MAC say: sending it again will not help, the
    bank must be called).  First, each transaction journalled without an
    outcome (a power cut, or a send that broke) gets its reversal journalled.
    """
    queue_lost(app)  # what a send that broke left pending without its reversal journalled (app._send)
    sent = None
    while app.reversals_owed:
        owed = _next(app)
        if owed is None:
            break
        seq, job = owed
        if job.kind == kinds.SETTLEMENT:
            import settlement
            failure, code, rrn, auth, done = await settlement.send(app, job, seq, on_stage)
            settlement = None
            if failure == "no_connect" or failure == "host_timeout":
                return "host_unreachable"
            if failure is not None:
                return "reversal_refused"
            journal_outcome(app, job.txn, seq, code, rrn, auth, done)  # the batch is the same on both sides now
            app.reversals_owed -= 1
            continue
        failure, code, rrn, _, _ = await send_one(app, job, seq, on_stage)
        if failure == "no_connect" or failure == "host_timeout":
            return "host_unreachable"
        if failure is not None or code != "00":
            return "reversal_refused"
        journal = app.journal()
        if job.txn.status == kinds.PENDING:
            journal.set_outcome(job.txn.seq, kinds.REVERSED)
        journal.set_outcome(seq, kinds.APPROVED, rrn, "", code)
        app.reversals_owed -= 1
        sent = "reversal_sent"
    return sent

