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
journalled and sent (``recover``).
"""
from micropython import const
import time

import clock
import cmac
import dukpt
import hostconn
import iso8583
import kinds
import wire
from ui import Screen, Notice, money

_STAN_MODULUS = const(999999)  # STAN is n6 and never 0
_KEY_LEN = const(16)


class Rejected(Exception):
    """A response that does not answer the request or whose MAC fails: treated as none."""


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


class Link:
    """Codec buffers, DUKPT and the connection, made for one send and dropped after."""

    def __init__(self, app, progress):
        config = app.config
        self.config = config
        self.progress = progress
        self.conn = hostconn.HostConnection(config, iso8583.LONGEST)
        self.tx = bytearray(iso8583.LONGEST)  # the profile's longest message, not the 2 KB the framing allows
        self.request = iso8583.Message()
        self.response = iso8583.Message()
        self.dukpt = dukpt.Dukpt(app.initial_key, app.initial_key_id)
        self.key = bytearray(_KEY_LEN)
        self.ksn = bytearray(24)
        self.mac = None
        self.network_up = getattr(app.board, "network_up", None)  # a board with WiFi brings it up first

    async def exchange(self, job, seq):
        """Sends ``job`` under the KSN of journal seq ``seq``; returns the verified response."""
        if self.network_up is not None and not await self.network_up(self.config):
            raise hostconn.ConnectFailed("no network")
        counter = dukpt.counter_at(seq)
        job.ksn_hex = self.dukpt.ksn_hex(counter, self.ksn)
        wire.fill(self.request, job, self.config)
        self.dukpt.mac_key(counter, self.key)
        if self.mac is None:
            self.mac = cmac.Cmac(self.key)
        else:
            self.mac.rekey(self.key)
        length = self.request.encode(self.tx, 0, self.mac)
        got = await self.conn.exchange(self.tx, length, self.progress.set_stage)
        rx = self.conn.rx
        try:
            self.response.decode(rx, got)
            span, mac_at = iso8583.mac_span(rx, got)
        except iso8583.DecodeError as exc:
            raise Rejected(str(exc))
        if not wire.answers(self.request, self.response):
            raise Rejected("not the answer to the request")
        if not self.mac.verify8(span, memoryview(rx)[mac_at:mac_at + iso8583.MAC_LENGTH]):
            raise Rejected("response MAC does not verify")
        return self.response


def _reversal_of(txn, reason):
    import journal
    return journal.Txn(type=kinds.REVERSAL, amount=txn.amount, currency=txn.currency, stan=txn.stan,
                       time=txn.time, pan=txn.pan, entry=txn.entry, reason=reason, orig_rrn=txn.orig_rrn,
                       orig_date=txn.orig_date)


def owe_reversal(app, txn, reason):
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


def queue_lost_reversals(app):
    """Journals a reversal for each transaction a power cut left without outcome; returns how many are owed."""
    journal = app.journal()
    pending = journal.pending_without_outcome()
    owed = 0
    for txn in pending:
        if txn.type == kinds.REVERSAL:
            owed += 1
        elif txn.type == kinds.SETTLEMENT:
            journal.set_outcome(txn.seq, kinds.FAILED)  # nothing to undo: settling again is harmless
        elif not any(_reverses(other, txn) for other in pending):
            journal.append_pending(_reversal_of(txn, wire.REASON_NO_RESPONSE))
            owed += 1
    app.reversals_owed = owed
    return owed


async def deliver_reversals(app, link):
    """Sends every reversal owed, oldest first; False when one could not be delivered."""
    journal = app.journal()
    if not app.reversals_owed:
        return True
    for reversal in journal.pending_without_outcome():
        if reversal.type != kinds.REVERSAL:
            continue
        original = _reversed_request(journal, reversal)
        if original is None:  # its request is gone from the journal: nothing left to rebuild
            journal.set_outcome(reversal.seq, kinds.FAILED)
            app.reversals_owed -= 1
            continue
        job = wire.Job(kinds.REVERSAL, original, "")
        job.reversal_reason = reversal.reason
        if original.type == kinds.VOID:
            from history import find_sale
            job.original = find_sale(journal, original.orig_rrn)
        try:
            response = await link.exchange(job, reversal.seq)
        except (hostconn.ConnectFailed, hostconn.NoResponse, Rejected):
            return False
        code = response.get_str(39) or ""
        if code != "00":
            return False
        if original.status == kinds.PENDING:
            journal.set_outcome(original.seq, kinds.REVERSED)
        journal.set_outcome(reversal.seq, kinds.APPROVED, response.get_str(37) or "", "", code)
        app.reversals_owed -= 1
    return True


async def send(app, draft, progress):
    """The whole send of one transaction; returns the result screen."""
    import journal as journal_module
    link = Link(app, progress)
    journal = app.journal()
    title = progress.title
    if not await deliver_reversals(app, link):
        return result(app, title, app.t("reversal_first"), app.t("host_unreachable"), "",
                      app.t("nothing_sent"))
    config = app.config
    txn = journal_module.Txn(type=draft.type, amount=draft.amount, currency=config.currency,
                             stan=stan_for(journal.next_seq), time=clock.now(), pan=draft.pan, entry=draft.entry,
                             reason=draft.reason, orig_rrn=draft.orig_rrn, orig_date=draft.orig_date)
    job = wire.Job(draft.type, txn, "")
    if draft.type == kinds.SETTLEMENT:
        job.totals = wire.totals_field(journal.totals())
    try:
        seq = journal.append_pending(txn)
    except journal_module.JournalFull:
        return result(app, title, app.t("journal_full"), app.t("settle_first"))
    job.pan, job.expiry, job.original = draft.pan, draft.expiry, draft.original
    draft.pan = draft.expiry = ""
    try:
        response = await link.exchange(job, seq)
    except hostconn.ConnectFailed:
        journal.set_outcome(seq, kinds.FAILED)
        return result(app, title, app.t("no_connect"), app.t("nothing_sent"))
    except hostconn.NoResponse:
        owe_reversal(app, txn, wire.REASON_NO_RESPONSE)
        return result(app, title, app.t("host_timeout"), app.t("reversal_pending"))
    except Rejected:
        owe_reversal(app, txn, wire.REASON_REJECTED)
        return result(app, title, app.t("bad_response"), app.t("reversal_pending"))
    job.pan = job.expiry = ""
    code = response.get_str(39) or ""
    rrn = response.get_str(37) or ""
    auth = (response.get_str(38) or "").strip()
    status = kinds.APPROVED if code == "00" else kinds.DECLINED
    journal.set_outcome(seq, status, rrn, auth, code)
    txn.status, txn.rrn, txn.auth_code, txn.response_code = status, rrn, auth, code
    if draft.type == kinds.SETTLEMENT and status == kinds.APPROVED:
        journal.mark_settled(txn.batch)
    words = app.t("rc_" + code)
    if words == "rc_" + code:
        words = app.t("rc_other") % code
    if status != kinds.APPROVED:
        return result(app, title, words, "", "%s %s" % (app.t("rrn"), rrn) if rrn else "")
    lines = [words, "%s %s" % (app.t("rrn"), rrn)]
    if auth:
        lines.append("%s %s" % (app.t("auth"), auth))
    if draft.type == kinds.SETTLEMENT:
        lines.append(app.t("settled"))
    else:
        lines.append("%s %s" % (app.t("amount"), money(txn.amount)))
    import receipt
    if receipt.print_both(app, txn):
        lines.append(app.t("printed"))
    return result(app, title, *lines)


async def _run(app, draft, progress):
    try:
        screen = await send(app, draft, progress)
    except Exception as exc:  # the terminal must come back to the merchant, whatever broke
        import sys
        sys.print_exception(exc)
        screen = result(app, progress.title, "ERROR", str(exc)[:21])
    app.go(screen)


def start(flow):
    """The send step of a flow: the progress screen, with the send running behind it."""
    app = flow.app
    progress = Progress(app, flow.title)
    app.run_behind(_run(app, flow.draft, progress))
    app.go(progress)
    app.unload(app.ui_modules)  # the entry screens are done with: room for the wire
    return progress


async def _recover(app, progress):
    link = Link(app, progress)
    if await deliver_reversals(app, link):
        app.home()
    else:
        app.go(result(app, "reversal", app.t("host_unreachable"), app.t("reversal_pending")))


def recover(app):
    """At boot: reversals for transactions a power cut interrupted, journalled and sent before anything else."""
    if queue_lost_reversals(app):
        progress = Progress(app, "reversal")
        app.go(progress)
        app.run_behind(_recover(app, progress))
