"""The steps transaction flows share, each a function of the flow returning its screen.

Entry fields end with ENTER, CLEAR deletes the last digit; choices act on
the digit alone (design.md, "Operator flows").  The card checks (``card``)
load only when a card is swiped or keyed: a reference-only refund never
needs them, and every module loaded interns its names for good.
"""
from micropython import const
import time

import keys
import kinds
from money import money
from screens import Screen, Entry, Choice, Notice, fit

_PASSWORD_TRIES = const(3)
_MAX_PASSWORD = const(8)
_MAX_AMOUNT_DIGITS = const(12)  # DE 4 is n12


def save(app):
    """Saves the settings (store/prefs) where the board keeps them: False when the flash refused.

    A board without a place for them keeps them in RAM.
    """
    path = getattr(app.board, "SETTINGS_FILE", None)
    if path:
        import prefs
        try:
            prefs.save(app.config, path)
        except OSError:  # a flash fault: the RAM copy still holds; said where a choice is saved (settings)
            return False
    return True


def lock_minutes_left(app):
    """Minutes (rounded up) until supervisor functions unlock, 0 when not locked."""
    if not app.locked_until_ms:
        return 0
    left = time.ticks_diff(app.locked_until_ms, time.ticks_ms())
    if left <= 0:
        app.locked_until_ms = 0
        app.config.locked = 0
        save(app)
        return 0
    return (left + 59999) // 60000


def _locked_notice(flow):
    t = flow.t
    return Notice(flow.app, (t(flow.title), "", t("locked") % lock_minutes_left(flow.app), t("locked_noted"),
                             "", "", "", t("any_key")))


def password(flow):
    """Supervisor password, shown as *: checked against its PBKDF2 record (domain/pbkdf2).

    Three wrong in a row lock refund, void and the password change for
    ``config.lock_minutes`` (journalled); the count and the lock are kept
    on flash at once, so no power cycle clears them.
    """
    app = flow.app
    if lock_minutes_left(app):
        return _locked_notice(flow)

    def done(value):
        import pbkdf2
        config = app.config
        if pbkdf2.check(value, config.supervisor_password):
            if config.password_tries:
                config.password_tries = 0
                save(app)
            flow.next()
            return None
        config.password_tries += 1
        if config.password_tries >= _PASSWORD_TRIES:
            config.password_tries = 0
            config.locked = 1
            app.locked_until_ms = time.ticks_add(time.ticks_ms(), config.lock_minutes * 60000)
            save(app)
            app.journal().note_lockout(_PASSWORD_TRIES)
            app.go(_locked_notice(flow))
            return None
        save(app)
        entry.note = flow.t("tries_left") % (_PASSWORD_TRIES - config.password_tries)
        return "wrong_password"

    entry = Entry(app, flow.title, "password", _MAX_PASSWORD, done, style="secret")
    return entry


class CardScreen(Screen):
    """Swipe (or ``card PAN=YYMM`` in the emulator), FUNC to key the PAN, ENTER for none when allowed."""

    def __init__(self, flow, allow_none):
        super().__init__(flow.app)
        self.flow = flow
        self.allow_none = allow_none
        self.error = None

    def rows(self):
        t = self.t
        return (t(self.flow.title), t("swipe"), "", t("func_key_in"),
                t("enter_no_card") if self.allow_none else "", "", t(self.error) if self.error else "", "")

    def on_card(self, pan, expiry):
        if pan is None:  # the reader could not read the stripe
            self.error = "card_unreadable"
            return
        import card
        self.error = card.pan_error(pan) or card.expiry_error(expiry) or _same_card(self.flow.draft, pan)
        if self.error:
            return
        _take_card(self.flow, pan, expiry, kinds.ENTRY_SWIPE)

    def on_key(self, key):
        self.error = None
        flow = self.flow
        if key == keys.FUNC:
            import card
            self.app.go(Entry(self.app, flow.title, "pan", 19, lambda pan: _keyed_pan(flow, pan),
                              min_len=12, check=card.pan_error))
        elif key == keys.ENTER and self.allow_none:
            flow.draft.entry = kinds.ENTRY_NONE
            flow.next()
        else:
            super().on_key(key)


def _same_card(draft, pan):
    """For a void: the card must be the sale's (the journal keeps its first 6 and last 4)."""
    original = draft.original
    if original is None or not original.pan:
        return None
    if pan[:6] != original.pan[:6] or pan[-4:] != original.pan[-4:]:
        return "card_differs"
    return None


def _keyed_pan(flow, pan):
    error = _same_card(flow.draft, pan)
    if error:
        return error
    import card
    flow.app.go(Entry(flow.app, flow.title, "expiry", 4, lambda value: _take_card(flow, pan, value, kinds.ENTRY_KEYED),
                      min_len=4, check=card.expiry_error))
    return None


def _take_card(flow, pan, expiry, entry):
    draft = flow.draft
    draft.pan = pan
    draft.expiry = expiry
    draft.entry = entry
    flow.next()


def card_or_none(flow):
    return CardScreen(flow, True)


def card_required(flow):
    return CardScreen(flow, False)


def orig_rrn(flow):
    def done(rrn):
        flow.draft.orig_rrn = rrn
        flow.next()
    return Entry(flow.app, flow.title, "orig_rrn", 12, done, min_len=12)


def _date_error(value):  # MMDD (parameters are named as elsewhere: each new name costs a qstr)
    month = int(value[:2])
    day = int(value[2:])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return "bad_date"
    return None


def orig_date(flow):
    def done(value):
        flow.draft.orig_date = int(value)
        flow.next()
    return Entry(flow.app, flow.title, "orig_date", 4, done, min_len=4, check=_date_error)


def _amount_error(value):
    return "zero_amount" if int(value) == 0 else None


def amount(flow, then=None):
    """Amount in minor units, shown with its decimal point; ``then`` instead of the next step."""
    draft = flow.draft

    def done(value):
        draft.amount = int(value)
        if then is None:
            flow.next()
        else:
            then()
    initial = str(draft.amount) if draft.amount else ""
    return Entry(flow.app, flow.title, "amount", _MAX_AMOUNT_DIGITS, done, style="amount",
                 check=_amount_error, initial=initial)


def reason(flow):
    def done(code):
        flow.draft.reason = code
        flow.next()
    return Choice(flow.app, "reason",
                  [(code, "reason_%d" % code, lambda code=code: done(code)) for code in (1, 2, 3, 4)])


class Confirm(Screen):
    """What will be sent, in words; ENTER sends.  From history, CLEAR changes the amount."""

    def __init__(self, flow):
        super().__init__(flow.app)
        self.flow = flow

    def rows(self):
        t = self.t
        d = self.flow.draft
        rows = [t(self.flow.title)]
        shown = t("no_card")
        if d.pan:
            import card
            shown = card.masked(d.pan)
        rows.append(shown)
        rows.append("%s %s" % (t("rrn"), d.orig_rrn) if d.type != kinds.SALE else "")
        rows.append("%s %s" % (t("amount"), money(d.amount)))
        rows.append(t("reason_%d" % d.reason) if d.reason else "")
        rows.append(t("clear_amount") if d.prefilled else "")
        rows.append("")
        rows.append(t("enter_send"))
        return fit(self.app, rows, (4, 7), (1, 0))  # in 中文: the reason beside ENTER, the card in the title

    def on_key(self, key):
        if key == keys.ENTER:
            self.flow.next()
        elif key == keys.CLEAR and self.flow.draft.prefilled:
            flow = self.flow
            self.app.go(amount(flow, then=lambda: flow.app.go(Confirm(flow))))
        else:
            super().on_key(key)


def confirm(flow):
    return Confirm(flow)


def send(flow):
    """The send step: the draft becomes a transaction, sent behind the progress screen."""
    from transmit import Job
    app = flow.app
    draft = flow.draft
    txn = kinds.Txn(type=draft.type, amount=draft.amount, currency=app.config.currency, pan=draft.pan,
                    entry=draft.entry, reason=draft.reason, orig_rrn=draft.orig_rrn, orig_date=draft.orig_date)
    job = Job(draft.type, txn)
    job.pan, job.expiry, job.original = draft.pan, draft.expiry, draft.original
    draft.pan = draft.expiry = ""
    return app.send(job, flow.title)
