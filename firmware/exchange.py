"""Sending a transaction: reversals owed first, the journal before the wire, the outcome after.

The order is what makes a power cut or a dead network harmless:
1. a reversal still owed is sent first; while one cannot be delivered no new
   transaction goes out;
2. the transaction is journalled as pending (write-ahead), which also fixes
   its STAN and its KSN counter: both come from the journal's sequence number,
   so they survive reboots and never repeat;
3. the request is built from that record, MACed with the DUKPT key of its
   KSN, and sent;
4. the response must answer it (MTI, DE 11, 41, 4) and carry a MAC that
   verifies; anything else counts as no response;
5. the outcome is journalled, then shown and printed.
No response, or a rejected one, journals a reversal before the screen says
so.  At boot, a transaction journalled without an outcome gets its reversal
journalled and sent (``reversals.recover``).

Memory: the journal, the link (codec, DUKPT, CMAC, connection) and the
receipt each take their turn in the heap: the journal is closed while a
message is on the wire, and the link's modules are unloaded after it.
"""
from micropython import const
import time

import clock
import kinds
from ui import Screen, Notice, money

_STAN_MODULUS = const(999999)  # STAN is n6 and never 0

# DE 39 of a reversal: why the request is reversed
REASON_NO_RESPONSE = const(98)
REASON_REJECTED = const(6)

# What one message needs loaded, and only while it is on the wire.
_LINK_MODULES = ("link", "wire", "iso8583", "cmac", "hostconn")


class Job:
    """One request to build: the transaction and what the journal does not keep."""

    def __init__(self, kind, txn):
        self.kind = kind  # what is sent: txn.type, or REVERSAL with txn the reversed request
        self.txn = txn
        self.ksn_hex = ""
        self.pan = ""  # the full PAN, for the request itself only
        self.expiry = ""
        self.original = None  # the sale a void cancels (its batch and STAN go in DE 61)
        self.reversal_reason = REASON_NO_RESPONSE
        self.totals = ""  # DE 63 of a settlement


def stan_for(seq):
    return (seq - 1) % _STAN_MODULUS + 1


class Progress(Screen):
    """Connecting, sending, receiving, with the seconds left; keys wait in the queue meanwhile."""

    times_out = False
    busy = True

    def __init__(self, app, title_key):
        super().__init__(app)
        self.title = title_key
        self.stage = "connecting"
        self._deadline = time.ticks_add(time.ticks_ms(), app.config.connect_timeout_s * 1000)

    def set_stage(self, stage):
        self.stage = stage
        if stage != "sending":
            seconds = self.app.config.response_timeout_s if stage == "receiving" else self.app.config.connect_timeout_s
            self._deadline = time.ticks_add(time.ticks_ms(), seconds * 1000)
        self.app.render()

    def rows(self):
        left = time.ticks_diff(self._deadline, time.ticks_ms())
        left = (left + 999) // 1000 if left > 0 else 0
        return (self.t(self.title), "", self.t(self.stage) + "...", "", self.t("wait_s") % left)

    def on_key(self, key):
        pass


def result(app, title_key, *lines):
    """The outcome in words; any key (or the idle timeout) returns to idle."""
    t = app.t
    rows = [t(title_key)]
    for line in lines:
        rows.append(line)
    while len(rows) < 7:
        rows.append("")
    rows.append(t("any_key"))
    return Notice(app, rows)


async def send_one(app, job, seq, progress):
    """One message on the wire as journal seq ``seq``: see ``link.send``.

    The journal is closed meanwhile; DUKPT derives the message's KSN and MAC
    key and is dropped before the codec and the connection load.
    """
    app.close_journal()
    import dukpt
    job.ksn_hex, key = dukpt.message_keys(app.initial_key, app.initial_key_id, seq)
    dukpt = None
    app.unload(("dukpt",))
    import link
    outcome = await link.send(app, job, key, progress)
    link = None
    app.unload(_LINK_MODULES)
    return outcome


def _journal_pending(app, job):
    """Write-ahead: journals the job's transaction as pending; its seq, or None when the journal is full."""
    import journal as journal_module
    journal = app.journal()
    txn = job.txn
    txn.stan = stan_for(journal.next_seq)
    txn.time = clock.now()
    if txn.type == kinds.SETTLEMENT:
        import wire
        job.totals = wire.totals_field(journal.totals())
    try:
        return journal.append_pending(txn)
    except journal_module.JournalFull:
        return None


def _journal_outcome(app, txn, seq, code, rrn, auth):
    """Journals the response's outcome, then closes the journal to leave the receipt the room."""
    journal = app.journal()
    status = kinds.APPROVED if code == "00" else kinds.DECLINED
    journal.set_outcome(seq, status, rrn, auth, code)
    txn.status, txn.rrn, txn.auth_code, txn.response_code = status, rrn, auth, code
    if txn.type == kinds.SETTLEMENT and status == kinds.APPROVED:
        journal.mark_settled(txn.batch)
    app.close_journal()


async def send(app, job, progress):
    """The whole send of one transaction; returns the result screen.

    Each part loads only what it needs: the journal to write ahead, the
    link for the message, the journal again for the outcome, then the receipt.
    """
    title = progress.title
    if app.reversals_owed:
        import reversals
        if not await reversals.deliver(app, progress):
            return result(app, title, app.t("reversal_first"), app.t("host_unreachable"), "",
                          app.t("nothing_sent"))
    seq = _journal_pending(app, job)
    if seq is None:
        return result(app, title, app.t("journal_full"), app.t("settle_first"))
    txn = job.txn
    failure, code, rrn, auth = await send_one(app, job, seq, progress)
    job.pan = job.expiry = ""
    if failure == "no_connect":
        app.journal().set_outcome(seq, kinds.FAILED)
        return result(app, title, app.t("no_connect"), app.t("nothing_sent"))
    if failure is not None:
        import reversals
        reversals.owe(app, txn, REASON_NO_RESPONSE if failure == "host_timeout" else REASON_REJECTED)
        return result(app, title, app.t(failure), app.t("reversal_pending"))
    _journal_outcome(app, txn, seq, code, rrn, auth)
    words = app.t("rc_" + code)
    if words == "rc_" + code:
        words = app.t("rc_other") % code
    if txn.status != kinds.APPROVED:
        return result(app, title, words, "", "%s %s" % (app.t("rrn"), rrn) if rrn else "")
    lines = [words, "%s %s" % (app.t("rrn"), rrn)]
    if auth:
        lines.append("%s %s" % (app.t("auth"), auth))
    if txn.type == kinds.SETTLEMENT:
        lines.append(app.t("settled"))
    else:
        lines.append("%s %s" % (app.t("amount"), money(txn.amount)))
    import receipt
    if receipt.print_both(app, txn):
        lines.append(app.t("printed"))
    return result(app, title, *lines)


async def _run(app, job, progress):
    try:
        screen = await send(app, job, progress)
    except Exception as exc:  # the terminal must come back to the merchant, whatever broke
        import sys
        sys.print_exception(exc)
        screen = result(app, progress.title, "ERROR", str(exc)[:21])
        _reverse_what_broke(app)
    app.go(screen)


def _reverse_what_broke(app):
    """Queues a reversal for a request a broken send left journalled without an outcome.

    Sent or not, its fate is unknown: it is reversed as after a power cut,
    not left until the next boot.
    """
    try:
        import reversals
        reversals.queue_lost(app)
    except Exception as exc:  # e.g. out of memory again: the next boot queues it instead
        import sys
        sys.print_exception(exc)


def start(flow):
    """The send step of a flow: the progress screen, with the send running behind it."""
    app = flow.app
    draft = flow.draft
    txn = kinds.Txn(type=draft.type, amount=draft.amount, currency=app.config.currency, pan=draft.pan,
                    entry=draft.entry, reason=draft.reason, orig_rrn=draft.orig_rrn, orig_date=draft.orig_date)
    job = Job(draft.type, txn)
    job.pan, job.expiry, job.original = draft.pan, draft.expiry, draft.original
    draft.pan = draft.expiry = ""
    progress = Progress(app, flow.title)
    app.run_behind(_run(app, job, progress))
    app.go(progress)
    app.unload(app.ui_modules)  # the entry screens are done with: room for the wire
    return progress
