"""Settlement (结算): the open batch's totals, ENTER sends them; 00 closes the batch, 95 keeps it open."""
import flow
import keys
import kinds
import steps
from money import money
from screens import Screen, fit


class Totals(Screen):
    """Totals since the last settlement, as DE 63 will carry them."""

    def __init__(self, flow_):
        super().__init__(flow_.app)
        self.flow = flow_
        journal = flow_.app.journal()
        self.batch = journal.batch
        self.totals = journal.totals()

    def _line(self, key, kind):
        count, amount = self.totals.get(kind, (0, 0))
        return "%s %d %s" % (self.t(key), count, money(amount))

    def rows(self):
        t = self.t
        return fit(self.app, [t(self.flow.title), "%s %06d" % (t("batch"), self.batch), self._line("sales", kinds.SALE),
                              self._line("refunds", kinds.REFUND), self._line("voids", kinds.VOID), "", "",
                              t("enter_settle")], (1, 0))  # in 中文: the batch in the title

    def on_key(self, key):
        if key == keys.ENTER:
            self.flow.next()
        else:
            super().on_key(key)


STEPS = (Totals, steps.send)


def start(app):
    flow.start(app, "settlement", STEPS, flow.Draft(kinds.SETTLEMENT))
