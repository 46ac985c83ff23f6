"""Reprint (重打印), FUNC 6: 1 the last receipt, 2 any receipt by voucher number, 3 the last settlement
report, 4 the detail list (明细) of the open batch.  Every reprint is marked REPRINT / 重打印.

A reversal is the terminal's own message, never a customer's receipt: the
last receipt is that of the last sale, refund or void, and a voucher number
finds the transaction (its reversal repeats the same STAN).
"""
import kinds
from history import reprint
from screens import Choice, Entry, Notice


def _done(app, printed, what):
    t = app.t
    app.go(Notice(app, (t("reprint"), "", t("reprinted") if printed else t("not_built"), t(what), "", "", "",
                        t("any_key"))))


def _find(app, stan=-1):
    """The newest sale, refund or void (with voucher number ``stan``, when given), or None."""
    for txn in app.journal().history():
        if txn.type != kinds.REVERSAL and txn.type != kinds.SETTLEMENT and (stan < 0 or txn.stan == stan):
            return txn
    return None


def _last(app):
    txn = _find(app)
    if txn is None:
        _done(app, False, "no_records")
    else:
        reprint(app, txn)


def _by_voucher(app):
    def done(value):
        txn = _find(app, int(value))
        if txn is None:
            return "no_voucher"
        reprint(app, txn)
        return None
    app.go(Entry(app, "reprint", "voucher", 6, done))


def _settlement(app):
    for txn in app.journal().history():
        if txn.type == kinds.SETTLEMENT and txn.status == kinds.APPROVED:
            import report
            _done(app, report.settlement(app, txn, True), "settle_report")
            return
    _done(app, False, "no_records")


def _detail(app):
    import report
    _done(app, report.detail(app), "detail")


def start(app):
    app.go(Choice(app, "reprint", ((1, "last_receipt", lambda: _last(app)), (2, "by_voucher", lambda: _by_voucher(app)),
                                   (3, "settle_report", lambda: _settlement(app)),
                                   (4, "detail", lambda: _detail(app)))))
