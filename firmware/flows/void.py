"""Void (撤销) of a sale of the open batch: password, its RRN, the same card, confirm, send.

The sale must be in the terminal's journal (a void cancels a sale of this
terminal before settlement); its amount is taken from there.
"""
import flow
import kinds
import steps
from screens import Entry


def _original(flow_):
    app = flow_.app

    def done(rrn):
        sale = app.journal().find_sale(rrn)
        if sale is None:
            return "orig_missing"
        draft = flow_.draft
        draft.original = sale
        draft.orig_rrn = rrn
        draft.amount = sale.amount
        flow_.next()
        return None
    return Entry(app, flow_.title, "orig_rrn", 12, done, min_len=12)


STEPS = (steps.password, _original, steps.card_required, steps.confirm, steps.send)


def start(app):
    flow.start(app, "void", STEPS, flow.Draft(kinds.VOID))
