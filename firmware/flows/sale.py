"""Sale (消费): amount, card, confirm, send."""
import flow
import kinds
import steps

STEPS = (steps.amount, steps.card_required, steps.confirm, steps.send)


def start(app):
    flow.start(app, "sale", STEPS, flow.Draft(kinds.SALE))
