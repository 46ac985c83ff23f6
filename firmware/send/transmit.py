"""One journalled transaction on the wire: its keys, then one request and its answer.

The parts take turns in the heap (``app/lifetime.py``): the journal is
closed while the message is out; DUKPT derives the message's KSN and MAC
key from the journal seq and is dropped before the codec and the connection
load; they are dropped once the answer is in.
"""
from micropython import const

import kinds

_STAN_MODULUS = const(999999)  # STAN is n6 and never 0

# DE 39 of a reversal: why the request is reversed (98, or 6 when its answer was rejected: exchange, reversals)
_NO_RESPONSE = const(98)


class Job:
    """One request to build: the transaction and what the journal does not keep."""

    def __init__(self, kind, txn):
        self.kind = kind  # what is sent: txn.type, or REVERSAL with txn the reversed request
        self.txn = txn
        self.ksn_hex = ""
        self.pan = ""  # the full PAN, for the request itself only
        self.expiry = ""
        self.original = None  # the sale a void cancels (its batch and STAN go in DE 61)
        self.reversal_reason = _NO_RESPONSE
        self.totals = None  # a settlement's: the journal's totals {type: (count, amount)}, for DE 63


class Outcome:
    """What became of a send, for the flow to show: the send layer builds no screen.

    ``failure`` is None when the acquirer answered (``code`` is its DE 39,
    ``txn`` the journalled transaction with its outcome), else the words key
    of what went wrong, which is also what the cashier reads:
    "no_connect" (nothing was sent), "host_timeout" (no answer in time: a
    reversal is owed), "bad_response" (an answer the terminal refuses: a
    reversal is owed), "journal_full" or "batch_full" (nothing sent: settle first),
    "reversal_first" (a reversal owed could not be delivered: nothing sent; ``code`` says why, see
    ``reversals.deliver``)
    "no_clock" (a board's clock could not be set from the acquirer: nothing sent; ``code`` says why)
    "no_memory" (the send ran out of memory) or "broken" (the send itself failed; ``code`` says how).  Plain strings,
    not named constants: on the board every name costs an interned string.
    """

    def __init__(self, failure, txn=None, code=""):
        self.failure = failure
        self.txn = txn
        self.code = code
        self.printed = False
        self.left = -1  # what the acquirer says is left to refund on the original (DE 54), -1 when it did not
        self.reversed = False  # a reversal owed was delivered before this send


def stan_for(seq):
    return (seq - 1) % _STAN_MODULUS + 1


def journal_outcome(app, txn, seq, code, rrn, auth, done=False):
    """Journals the answer's outcome (and a settlement's "batch settled" mark), then closes the journal to leave
    the receipt the room.  For a send (``exchange``) and for a settlement sent again (``reversals``).

    ``done``: a settlement whose totals the acquirer disputed (95) and whose
    batch upload closed the batch: approved, its code still saying 95.
    """
    journal = app.journal()
    status = kinds.APPROVED if code == "00" or done else kinds.DECLINED
    journal.set_outcome(seq, status, rrn, auth, code)
    txn.status, txn.rrn, txn.auth_code, txn.response_code = status, rrn, auth, code
    if txn.type == kinds.SETTLEMENT and status == kinds.APPROVED:
        journal.mark_settled(txn.batch)
    app.lifetime.drop("journal")


async def send_one(app, job, seq, on_stage):
    """``job`` on the wire as journal seq ``seq``: (failure, code, RRN, approval code, DE 54), see ``link.send``."""
    lifetime = app.lifetime
    lifetime.drop("journal")
    import dukpt
    job.ksn_hex, key = dukpt.message_keys(app.initial_key, app.initial_key_id, seq)
    dukpt = None
    lifetime.drop("keys")
    import link
    lifetime.drop("wire")
    answer = await link.send(app.config, getattr(app.board, "network_up", None), job, key, on_stage)
    link = None
    lifetime.drop("link")
    return answer
