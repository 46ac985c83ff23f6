"""Void (撤销) of a sale of the open batch: password, its voucher number, the sale shown, the same card, confirm.

The sale must be an approved sale of this terminal's open batch (a void
cancels it before settlement), found by its voucher number (its STAN, as
printed on the receipt); its amount and RRN come from the journal.  Anything
else is refused in words before anything is sent.
"""
import flow
import keys
import kinds
import steps
from money import money
from screens import Entry, Screen, fit


def _voucher(flow):  # (the module flow is not used here: its name is interned already)
    app = flow.app

    def done(value):
        journal = app.journal()
        sale = journal.find_sale(int(value))
        if sale is None:
            return "orig_missing"
        if journal.refundable(sale) < 0:
            return "voided"
        draft = flow.draft
        draft.original = sale
        draft.orig_rrn = sale.rrn
        draft.amount = sale.amount
        flow.next()
        return None
    return Entry(app, flow.title, "voucher", 6, done)


class _Sale(Screen):
    """The sale the voucher number found: checked by the cashier before the card is asked for."""

    def __init__(self, flow):
        super().__init__(flow.app)
        self.flow = flow

    def rows(self):
        t = self.t
        sale = self.flow.draft.original
        return fit(self.app, [t(self.flow.title), "%s %s" % (t("voucher"), "%06d" % sale.stan),
                              "%s %s" % (t("amount"), money(sale.amount, sale.currency)),
                              sale.pan or t("no_card"), "%s %s" % (t("rrn"), sale.rrn),
                              "", "", t("enter_ok")], (1, 0))  # in 中文: the voucher number in the title

    def on_key(self, key):
        if key == keys.ENTER:
            self.flow.next()
        else:
            super().on_key(key)


STEPS = (steps.password, _voucher, _Sale, steps.card_required, steps.confirm, steps.send)


def start(app):
    flow.start(app, "void", STEPS, flow.Draft(kinds.VOID))
