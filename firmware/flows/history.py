"""History (交易查询) and reprint (重打印): the journal newest first.

UP/DOWN move through the records, ENTER reprints the one shown, FUNC on an
approved sale starts its refund with the original and the amount still
refundable filled in (FUNC 4, FUNC, password, reason, ENTER: 12 keys).
"""
import card
import clock
import keys
import kinds
from money import money
from screens import Screen, Notice, fit


class History(Screen):
    def __init__(self, app):
        super().__init__(app)
        self.index = 0
        self.txn = app.journal().nth(0)

    def rows(self):
        t = self.t
        txn = self.txn
        if txn is None:
            return (t("history"), "", t("no_records"), "", "", "", "", t("cancel_back"))
        when = clock.local(txn.time, self.app.config.utc_offset_min)
        hint = t("func_refund") if self._refundable() else t("up_down")
        return fit(self.app, ["%s %d" % (t("history"), self.index + 1),
                "%s %s" % (t(kinds.type_name(txn.type).lower()), t("status_%d" % txn.status)),
                "%s %s" % (t("amount"), money(txn.amount)),
                "%s %s" % (t("rrn"), txn.rrn or "-"),
                card.masked(txn.pan) if txn.pan else t("no_card"),
                "%02d-%02d %02d:%02d %s" % (when[1], when[2], when[3], when[4], txn.response_code),
                "%s %s" % (t("orig"), txn.orig_rrn) if txn.orig_rrn else "",
                hint], (1, 0))  # in 中文: the kind and status in the title

    def _refundable(self):
        txn = self.txn
        return txn is not None and txn.type == kinds.SALE and txn.status == kinds.APPROVED and txn.rrn

    def _move(self, step):
        index = self.index + step
        if index < 0:
            return
        txn = self.app.journal().nth(index)
        if txn is not None:
            self.index = index
            self.txn = txn

    def on_key(self, key):
        app = self.app
        if key == keys.UP:
            self._move(-1)
        elif key == keys.DOWN:
            self._move(1)
        elif key == keys.ENTER and self.txn is not None:
            reprint(app, self.txn)
        elif key == keys.FUNC and self._refundable():
            import refund
            refund.start_from(app, self.txn, app.journal().refundable(self.txn))
        else:
            super().on_key(key)


def reprint(app, txn):
    import receipt
    t = app.t
    done = receipt.print_both(app, txn, reprint=True)
    app.go(Notice(app, (t("reprint"), "", t("reprinted") if done else t("not_built"),
                        "%s %s" % (kinds.type_name(txn.type), money(txn.amount)), "", "", "", t("any_key"))))


def start(app):
    app.go(History(app))


def start_reprint(app):
    """FUNC 6: the newest transaction's receipt again (any other one: from history, ENTER)."""
    txn = app.journal().nth(0)
    if txn is None:
        app.go(History(app))
    else:
        reprint(app, txn)
