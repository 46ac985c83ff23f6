from cardreader import CardReader


class FakeApp:
    def __init__(self):
        self.cards = []

    def handle_card(self, pan, expiry):
        self.cards.append((pan, expiry))


def test_a_swipe_gives_pan_and_expiry_only():
    app = FakeApp()
    reader = CardReader(None, app)
    reader.feed(b";6212345678901232=28121010000012345678?\r\n")
    assert app.cards == [("6212345678901232", "2812")]


def test_an_unreadable_swipe_is_reported_not_dropped():
    app = FakeApp()
    reader = CardReader(None, app)
    for line in (b";6212345678901233=2812?\r\n", b"%B garbage\r\n", b";62123=?\r\n"):
        reader.feed(line)
    assert app.cards == [(None, None)] * 3
