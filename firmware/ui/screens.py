"""Screens: small classes driven by key events, and the reusable ones.

A screen answers ``rows()`` with what it shows and reacts in ``on_key`` and
``on_tick`` (once a second).  The app draws ``rows()`` after every event, so a
screen only changes its own state.  ``CANCEL`` anywhere returns to idle with
nothing sent; that is handled here once, not in each screen.
"""
import keys
from money import format_digits
from textscreen import wide


# (Attributes are named as their constructor arguments: every distinct name
# costs the heap an interned string for good, see app/lifetime.py.)


class Screen:
    # The idle timeout returns to idle from this screen (a transaction in
    # flight sets this False: only its own countdown may end it).
    times_out = True

    def __init__(self, app):
        self.app = app

    def t(self, key):
        return self.app.t(key)

    def rows(self) -> "tuple | list":
        """The rows of text the screen shows, top to bottom."""
        return ()

    def on_open(self):
        pass

    def on_hide(self):
        pass

    def on_tick(self):
        pass

    def on_card(self, pan, expiry):
        pass

    def on_key(self, key):
        if key == keys.CANCEL:
            self.app.home()


def fit(app, rows, *moves):
    """Joins rows of ``rows`` (a list) until they fit the panel, a move at a time.

    A move ``(a, b)`` puts row ``a`` beside row ``b`` (before it if ``a`` is
    above) and leaves ``a`` blank: in 中文 a row is 12 pixels high, so a screen
    of English's eight rows must be laid out in five.
    """
    for a, b in moves:
        if app.text.fits(rows):
            break
        if rows[a]:
            rows[b] = "%s %s" % ((rows[a], rows[b]) if a < b else (rows[b], rows[a]))
            rows[a] = ""
    return rows


class Notice(Screen):
    """A fixed message; any key returns to idle."""

    def __init__(self, app, rows):
        super().__init__(app)
        self._rows = rows

    def rows(self):
        return self._rows

    def on_key(self, key):
        self.app.home()


class Choice(Screen):
    """A menu acting on the digit alone: ``items`` is ((digit, label_key, action), ...).

    In 中文 (12-pixel rows, 4 under the title) a menu of more than 4 items is
    laid out in two columns: the first half down the left, the rest beside them.
    """

    def __init__(self, app, title_key, items):
        super().__init__(app)
        self.title_key = title_key
        self.items = items

    def rows(self):
        title = self.t(self.title_key)
        out = [title]
        items = self.items
        count = len(items)
        half = (count + 1) // 2 if count > 4 and wide(title) else count
        # The left column's width in pixels (12 a 中文 character, 8 an ASCII one: drivers/textscreen),
        # then each right item after 8-pixel spaces up to it
        column = 0
        for i in range(count):
            out.append("%d %s" % (items[i][0], self.t(items[i][1])))
            if i < half < count:
                column = max(column, 8 * len(out[-1]) + 4 * wide(out[-1]))
        for i in range(half, count):
            left = out[1 + i - half]
            out[1 + i - half] = left + " " * ((column - 8 * len(left) - 4 * wide(left)) // 8 + 1) + out[1 + i]
        return out[:1 + half]

    def on_key(self, key):
        for digit, _, action in self.items:
            if key == digit:
                action()
                return
        super().on_key(key)


class Entry(Screen):
    """A digit entry field ended by ENTER; CLEAR deletes the last digit.

    ``style`` shapes what is shown: ``"plain"``, ``"secret"`` (one ``*`` a
    digit) or ``"amount"`` (minor units with the decimal point: 1234 shows
    12.34).  ``check(value)`` returns an error message key or None; so may
    ``on_done(value)``, for an answer only the flow can judge (a wrong
    password): the entry then stays, shows it, and a secret is cleared.
    """

    def __init__(self, app, title_key, prompt_key, max_len, on_done,
                 style="plain", min_len=1, check=None, initial=""):
        super().__init__(app)
        self.title_key = title_key
        self.prompt_key = prompt_key
        self.digits = bytearray(max_len)
        self._count = 0
        self.min_len = min_len
        self.on_done = on_done
        self.style = style
        self._check = check
        self.error = None
        self.note = ""
        for digit in memoryview(initial):  # pyright: ignore[reportArgumentType] - a str lends its bytes; indexing it would intern each digit (a qstr)
            self._push(digit - 48)

    def _push(self, digit):
        if self._count < len(self.digits):
            self.digits[self._count] = 48 + digit
            self._count += 1

    def value(self):
        return bytes(self.digits[:self._count]).decode()

    def shown(self):
        n = self._count
        if self.style == "secret":
            return "*" * n
        if self.style == "amount":
            return format_digits(self.digits, n)
        return self.value()

    def rows(self):
        return (self.t(self.title_key), self.t(self.prompt_key), self.shown(), "",
                self.t(self.error) if self.error else "", self.note, "", self.t("enter_ok"))

    def on_key(self, key):
        self.error = None
        if keys.is_digit(key):
            self._push(key)
        elif key == keys.CLEAR:
            if self._count:
                self._count -= 1
        elif key == keys.ENTER:
            if self._count < self.min_len:
                self.error = "too_short"
                return
            value = self.value()
            if self._check is not None:
                self.error = self._check(value)
                if self.error:
                    return
            self.error = self.on_done(value)
            if self.error and self.style == "secret":
                self._count = 0
        else:
            super().on_key(key)
