"""The screens of a send: its progress while it runs, then its outcome in words.

The send layer returns a ``transmit.Outcome`` and draws nothing; this module
turns it into the screen that stays until a key is pressed, and says what
happened and what to do.
"""
import time

from kinds import APPROVED, SETTLEMENT
from money import money
from screens import Notice, Screen, fit


class Progress(Screen):
    """Connecting, sending, receiving, with the seconds left.

    Keys pressed meanwhile wait in the queue (``busy``); only the send may
    end this screen.
    """

    times_out = False
    busy = True
    drops_keys = False  # a send's progress drops keys; a reversal owed at boot lets them wait

    def __init__(self, app, title_key):
        super().__init__(app)
        self.title = title_key
        self.stage = "connecting"
        self._deadline = time.ticks_add(time.ticks_ms(), app.config.connect_timeout_s * 1000)

    def set_stage(self, stage):
        self.stage = stage
        if stage != "sending":
            config = self.app.config
            seconds = config.response_timeout_s if stage == "receiving" else config.connect_timeout_s
            self._deadline = time.ticks_add(time.ticks_ms(), seconds * 1000)
        self.app.render()

    def rows(self):
        left = time.ticks_diff(self._deadline, time.ticks_ms())
        left = (left + 999) // 1000 if left > 0 else 0
        return (self.t(self.title), "", self.t(self.stage) + "...", "", self.t("wait_s") % left)

    def on_key(self, key):
        pass


def notice(app, title_key, *lines):
    """A result screen: the title, the lines (the most important first), "any key" at the bottom.

    Where they do not all fit (in 中文 five rows do), "any key" goes first,
    then the first line joins the title, then the last lines go.
    """
    rows = [app.t(title_key)]
    for line in lines[:6]:
        rows.append(line)
    while len(rows) < 7:
        rows.append("")
    rows.append(app.t("any_key"))
    fits = app.text.fits
    if not fits(rows):
        rows[7] = ""
        fit(app, rows, (1, 0))
    at = 6
    while not fits(rows):
        rows[at] = ""
        at -= 1
    return Notice(app, rows)


def reversal(app, key):
    """The rows that say why a reversal owed is not delivered (``reversals.deliver``'s ``key``), and what to do."""
    return (app.t(key), app.t("call_bank") if key == "reversal_refused" else "")


def screen(app, title_key, outcome):
    """The screen that shows ``outcome`` of a send started from flow ``title_key``: what happened, what to do."""
    t = app.t
    failure = outcome.failure
    txn = outcome.txn
    done = t("reversal_sent") if outcome.reversed else ""
    if failure == "journal_full" or failure == "batch_full":
        return notice(app, title_key, t("not_done"), t("nothing_sent"), "", t(failure), t("settle_first"))
    if failure == "reversal_first":
        return notice(app, title_key, t("not_done"), t("nothing_sent"), "", t("reversal_first"),
                      *reversal(app, outcome.code))
    if failure == "no_clock":  # a board after power-on whose acquirer did not tell it the time
        return notice(app, title_key, t("not_done"), t("nothing_sent"), "", t("no_clock"), t(outcome.code))
    if failure == "no_connect":
        return notice(app, title_key, t("not_done"), t("nothing_sent"), "", t("no_connect"), done)
    if (failure == "host_timeout" or failure == "bad_response") and txn.type == SETTLEMENT:
        return notice(app, title_key, t("not_done"), "", t(failure), t("settle_pending"))  # no money moves
    if failure == "host_timeout" or failure == "bad_response":
        return notice(app, title_key, t("not_done"), t("do_not_pay"), "", t(failure), t("reversal_pending"))
    if failure == "no_memory":  # whether it reached the acquirer is unknown: what was journalled is reversed
        return notice(app, title_key, t("not_done"), t("do_not_pay"), "", t("no_memory"),
                      t("reversal_pending") if app.reversals_owed else "")
    if failure is not None:
        return notice(app, title_key, "ERROR", outcome.code[:21])
    code = outcome.code
    words = t("rc_" + code)
    if words == "rc_" + code:
        words = t("rc_other") % code
    left = []  # what is left to refund: one row, or the words above the amount when they do not fit one
    if outcome.left >= 0:
        label = t("left")
        amount = money(outcome.left, txn.currency)
        left = ["%s %s" % (label, amount)] if len(label) + len(amount) < 21 else [label, amount]
    if txn.status != APPROVED:
        if code == "25":  # what the cashier typed, to check against the customer's receipt
            return notice(app, title_key, words, "%s %s" % (t("rrn"), txn.orig_rrn),
                          "%s %04d" % (t("date"), txn.orig_date), done)
        return notice(app, title_key, words, *left, "%s %s" % (t("rrn"), txn.rrn) if txn.rrn else "", done)
    lines = [words]
    if txn.type == SETTLEMENT:
        lines.append(t("settled"))
        if code != "00":  # approved all the same: the acquirer's totals differed (95) and the upload closed it
            lines.append(t("uploaded"))
    lines.append("%s %s" % (t("rrn"), txn.rrn))
    if txn.auth_code:
        lines.append("%s %s" % (t("auth"), txn.auth_code))
    lines.extend(left)
    if done:
        lines.append(done)
    if txn.type != SETTLEMENT:
        lines.append("%s %s" % (t("amount"), money(txn.amount, txn.currency)))
    if outcome.printed:
        lines.append(t("printed"))
    return notice(app, title_key, *lines)
