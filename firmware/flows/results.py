"""The outcome of a send, in words: what happened and what to do.

The send layer returns a ``kinds.Outcome`` and draws nothing; this module
turns it into the screen that stays until a key is pressed.
"""
from kinds import SETTLEMENT, Outcome
from money import money
from screens import Notice


def notice(app, title_key, *lines):
    """A result screen: the title, the lines, "any key" at the bottom."""
    t = app.t
    rows = [t(title_key)]
    for line in lines:
        rows.append(line)
    while len(rows) < 7:
        rows.append("")
    rows.append(t("any_key"))
    return Notice(app, rows)


def screen(app, title_key, outcome):
    """The screen that shows ``outcome`` of a send started from flow ``title_key``."""
    t = app.t
    result = outcome.result
    if result == Outcome.JOURNAL_FULL:
        return notice(app, title_key, t("journal_full"), t("settle_first"))
    if result == Outcome.REVERSAL_STUCK:
        return notice(app, title_key, t("reversal_first"), t("host_unreachable"), "", t("nothing_sent"))
    if result == Outcome.NO_CONNECT:
        return notice(app, title_key, t("no_connect"), t("nothing_sent"))
    if result == Outcome.NO_RESPONSE or result == Outcome.REJECTED:
        return notice(app, title_key, t(result), t("reversal_pending"))
    if result == Outcome.BROKEN:
        return notice(app, title_key, "ERROR", outcome.detail[:21])
    txn = outcome.txn
    code = outcome.code
    words = t("rc_" + code)
    if words == "rc_" + code:
        words = t("rc_other") % code
    rrn = "%s %s" % (t("rrn"), txn.rrn) if txn.rrn else ""
    if result != Outcome.OK:
        return notice(app, title_key, words, "", rrn)
    lines = [words, rrn]
    if txn.auth_code:
        lines.append("%s %s" % (t("auth"), txn.auth_code))
    if txn.type == SETTLEMENT:
        lines.append(t("settled"))
    else:
        lines.append("%s %s" % (t("amount"), money(txn.amount, txn.currency)))
    if outcome.printed:
        lines.append(t("printed"))
    return notice(app, title_key, *lines)
