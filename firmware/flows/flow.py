"""A transaction flow: its steps in order, and the draft they fill.

A flow module (sale, void, refund, settle) lists its steps as a tuple read
top to bottom; each step is a function of the flow that returns the screen
for that step, and the screen calls ``flow.next()`` once the merchant has
answered.  CANCEL anywhere returns to idle (ui.Screen), and the draft, full
PAN included, is then dropped.
"""
import kinds


class Draft:
    """What the merchant has entered so far; the full PAN lives only here, only until sent."""

    def __init__(self, type):
        self.type = type
        self.amount = 0
        self.pan = ""
        self.expiry = ""
        self.entry = kinds.ENTRY_NONE
        self.orig_rrn = ""
        self.orig_date = 0  # MMDD as a number
        self.reason = 0
        self.original = None  # the journalled sale (a void, a refund from history)
        self.prefilled = False  # a refund from history: amount and original filled in


class Flow:
    def __init__(self, app, title_key, steps, draft):
        self.app = app
        self.title = title_key
        self.steps = steps
        self.draft = draft
        self.index = -1

    def t(self, key):
        return self.app.t(key)

    def next(self):
        """Goes to the following step."""
        self.index += 1
        self.app.go(self.steps[self.index](self))


def start(app, title_key, steps, draft):
    flow = Flow(app, title_key, steps, draft)
    flow.next()
    return flow
