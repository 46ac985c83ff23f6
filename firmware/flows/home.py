"""The idle screen and the function menu."""
import clock
import keys
from screens import Screen, Choice


class Idle(Screen):
    times_out = False

    def rows(self):
        known = clock.known()  # a board after power-on has no time until its first send asks the acquirer
        now = clock.local(clock.now(), self.app.config.utc_offset_min)
        return (
            self.t("title"),
            self.app.config.terminal_id,
            "",
            "%04d-%02d-%02d" % (now[0], now[1], now[2]) if known else "",
            "%02d:%02d" % (now[3], now[4]) if known else "",
            "",
            self.t("reversal_owed") if self.app.reversals_owed else "",
            self.t("func_menu"),
        )

    def on_key(self, key):
        if key == keys.FUNC:
            self.app.go(menu(self.app))


def menu(app):
    """The function menu: each digit opens its flow (design: FUNC then 1..7)."""
    items = []
    for digit, label in ((1, "sale"), (2, "void"), (3, "refund"), (4, "history"),
                         (5, "settlement"), (6, "reprint"), (7, "settings")):
        items.append((digit, label, lambda n=label: app.start_flow(n)))
    return Choice(app, "menu", items)
