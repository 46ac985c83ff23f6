"""Refund (退货): the steps of design.md, in their order."""
import clock
import flow
import kinds
import steps

STEPS = (
    steps.password,       # 1 supervisor password, shown as *
    steps.card_or_none,   # 2 swipe, FUNC to key PAN and expiry, ENTER for none
    steps.orig_rrn,       # 3 original RRN, 12 digits
    steps.orig_date,      # 4 original date, MMDD
    steps.amount,         # 5 amount, > 0, shown with its decimal point
    steps.reason,         # 6 reason 1-4
    steps.confirm,        # 7 masked card, RRN, amount, reason; ENTER sends
    steps.send,           # 8-10 progress, result, receipts
)

# From a sale in the terminal's own history: original and amount are filled in.
FROM_HISTORY = (steps.password, steps.reason, steps.confirm, steps.send)


def start(app):
    flow.start(app, "refund", STEPS, flow.Draft(kinds.REFUND))


def start_from(app, sale, refundable):
    """A refund of ``sale`` (a journal record) for at most ``refundable``, pre-filled."""
    draft = flow.Draft(kinds.REFUND)
    draft.original = sale
    draft.orig_rrn = sale.rrn
    draft.orig_date = clock.local_mmdd(sale.time, app.config.utc_offset_min)
    draft.amount = refundable
    draft.prefilled = True
    flow.start(app, "refund", FROM_HISTORY, draft)
