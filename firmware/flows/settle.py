"""Settlement (结算): the open batch's totals and net, ENTER sends them; 00 closes the batch, and so does the
batch upload after a 95 (send/settlement.py)."""
import flow
import keys
import kinds
import steps
from money import money
from screens import Screen, fit


class Totals(Screen):
    """Totals since the last settlement, as DE 63 will carry them."""

    def __init__(self, flow):
        super().__init__(flow.app)
        self.flow = flow
        journal = flow.app.journal()
        self.batch = journal.batch
        self.totals = journal.totals()

    def _line(self, key, kind):
        count, amount = self.totals.get(kind, (0, 0))
        return "%s %d %s" % (self.t(key), count, money(amount))

    def rows(self):
        t = self.t
        totals = self.totals
        net = totals.get(kinds.SALE, (0, 0))[1] - totals.get(kinds.REFUND, (0, 0))[1]
        net -= totals.get(kinds.VOID, (0, 0))[1]
        rows = fit(self.app, [t(self.flow.title), "%s %s" % (t("batch"), "%06d" % self.batch),
                              self._line("sales", kinds.SALE), self._line("refunds", kinds.REFUND),
                              self._line("voids", kinds.VOID),
                              "%s %s" % (t("net"), ("-" if net < 0 else "") + money(-net if net < 0 else net)), "",
                              t("enter_settle")], (1, 0), (5, 7))  # in 中文: the batch in the title, the net by ENTER
        if not self.app.text.fits(rows):  # a net too wide to share a row: its own row, and no title
            rows[5], rows[7] = rows[7][:rows[7].find(" " + t("enter_settle"))], t("enter_settle")
            rows[0] = ""
        return rows

    def on_key(self, key):
        if key == keys.ENTER:
            self.flow.next()
        else:
            super().on_key(key)


STEPS = (Totals, steps.send)


def start(app):
    flow.start(app, "settlement", STEPS, flow.Draft(kinds.SETTLEMENT))
