"""History (交易查询): the journal newest first, a record a screen.

UP/DOWN move through the records, ``n/N`` says where; ENTER reprints the
one shown; FUNC on an approved sale with something left to refund starts
its refund with the original and what is left filled in (FUNC 4, FUNC,
password, reason, ENTER: 12 keys).  A sale already voided says VOIDED, and
one with nothing left says so, before any password is asked.
"""
from micropython import const

import clock
import keys
import kinds
from money import money
from screens import Screen, Notice

_VOIDED = const(5)  # status_5: a sale whose void was approved (a screen's word, never journalled)


class History(Screen):
    def __init__(self, app):
        super().__init__(app)
        journal = app.journal()
        self.count = 0
        for _ in journal.history():
            self.count += 1
        self.index = 0
        self._show(journal.nth(0))

    def _show(self, txn):
        """Makes ``txn`` the record shown; a sale's ``left`` is what is left to refund, -1 once voided."""
        self.txn = txn
        self.left = 0
        if txn is not None and txn.type == kinds.SALE and txn.status == kinds.APPROVED and txn.rrn:
            self.left = self.app.journal().refundable(txn)

    def rows(self):
        t = self.t
        txn = self.txn
        if txn is None:
            return (t("history"), "", t("no_records"), "", "", "", "", t("cancel_back"))
        when = clock.local(txn.time, self.app.config.utc_offset_min)
        what = "%s %s" % (t(kinds.type_name(txn.type).lower()), t("status_%d" % (_VOIDED if self.left < 0 else
                                                                                txn.status)))
        where = "%d/%d" % (self.index + 1, self.count)
        rows = ["%s %s" % (t("history"), where), what,
                "%s %s" % (t("amount"), money(txn.amount, txn.currency)),
                "%s %s" % (t("voucher"), "%06d" % txn.stan),
                "%s %s" % (t("rrn"), txn.rrn or "-"),
                txn.pan or t("no_card"),  # the journal keeps it masked (first 6 and last 4)
                "%04d-%02d-%02d %02d:%02d" % (when[0], when[1], when[2], when[3], when[4]),
                t("func_refund") if self.left > 0 else t("up_down")]
        if not self.app.text.fits(rows):  # 中文, five rows: n/N beside the kind, and no key hints
            rows[0] = "%s %s" % (where, what)
            rows[1] = rows[7] = ""
        return rows

    def _move(self, step):
        index = self.index + step
        if index < 0:
            return
        txn = self.app.journal().nth(index)
        if txn is not None:
            self.index = index
            self._show(txn)

    def on_key(self, key):
        app = self.app
        txn = self.txn
        if key == keys.UP:
            self._move(-1)
        elif key == keys.DOWN:
            self._move(1)
        elif key == keys.ENTER and txn is not None:
            reprint(app, txn)
        elif key == keys.FUNC and txn is not None and txn.type == kinds.SALE and txn.status == kinds.APPROVED:
            if self.left > 0:
                import refund
                refund.start_from(app, txn, self.left)
            else:  # refused before the password: nothing would be sent but a decline
                t = self.t
                app.go(Notice(app, (t("refund"), "", t("voided") if self.left < 0 else t("nothing_left"),
                                    "" if self.left < 0 else t("to_refund"), "", "", "", t("any_key"))))
        else:
            super().on_key(key)


def reprint(app, txn):
    """The receipt of ``txn`` again, marked REPRINT (a reversal's: the merchant copy only; a settlement's report)."""
    t = app.t
    if txn.type == kinds.SETTLEMENT:
        import report
        done = report.settlement(app, txn, True)
    else:
        import receipt
        done = receipt.print_both(app, txn, reprint=True)
    app.go(Notice(app, (t("reprint"), "", t("reprinted") if done else t("not_built"),
                        "%s %s" % (t(kinds.type_name(txn.type).lower()), money(txn.amount, txn.currency)), "", "",
                        "", t("any_key"))))


def start(app):
    app.go(History(app))
