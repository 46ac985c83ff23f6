import keys
from screens import Entry, Choice
from money import format_digits as format_amount


class FakeApp:
    def __init__(self):
        self.went_home = 0

    def t(self, key):
        return key

    def home(self):
        self.went_home += 1


def _entry(**kw):
    done = []
    app = FakeApp()
    entry = Entry(app, "title", "prompt", kw.pop("max_len", 12), done.append, **kw)
    return app, entry, done


def test_amount_is_shown_with_its_decimal_point():
    for typed, shown in (("", "0.00"), ("1", "0.01"), ("12", "0.12"), ("123", "1.23"),
                         ("1234", "12.34"), ("0005", "0.05"), ("100000", "1000.00")):
        digits = bytearray(typed.encode())
        assert format_amount(digits, len(digits)) == shown, typed


def test_entry_collects_digits_clear_deletes_one_enter_finishes():
    app, entry, done = _entry(style="amount")
    for k in (1, 2, 3, 9):
        entry.on_key(k)
    entry.on_key(keys.CLEAR)
    entry.on_key(4)
    assert entry.shown() == "12.34"
    entry.on_key(keys.ENTER)
    assert done == ["1234"]


def test_secret_entry_shows_stars_only():
    app, entry, done = _entry(style="secret", max_len=6)
    for k in (1, 2, 3, 4, 5, 6, 7):
        entry.on_key(k)
    assert entry.shown() == "******"
    assert "123456" not in entry.rows()


def test_too_short_says_so_and_keeps_the_digits():
    app, entry, done = _entry(min_len=4)
    entry.on_key(1)
    entry.on_key(keys.ENTER)
    assert done == []
    assert entry.error == "too_short"
    assert entry.value() == "1"


def test_check_message_blocks_enter():
    app, entry, done = _entry(check=lambda v: "bad" if v == "0" else None)
    entry.on_key(0)
    entry.on_key(keys.ENTER)
    assert done == [] and entry.error == "bad"


def test_cancel_returns_to_idle_from_entry_and_choice():
    app, entry, done = _entry()
    entry.on_key(keys.CANCEL)
    chosen = []
    choice = Choice(app, "menu", ((1, "a", lambda: chosen.append(1)),))
    choice.on_key(5)
    choice.on_key(1)
    choice.on_key(keys.CANCEL)
    assert app.went_home == 2 and chosen == [1] and done == []
