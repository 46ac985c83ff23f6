"""A board has no time after power-on: it asks the acquirer (echo test, 0810 DE 7) before its first send.

Emulator only: the emulator board starts with no clock when rebooted with ``no_clock``.
"""
from datetime import UTC, datetime

import pytest

from micropos import iso8583

pytestmark = pytest.mark.emulator_only

PAN, EXPIRY = "6212345678901232", "3012"


def _sale(terminal, amount="12.34"):
    terminal.press("FUNC", "1", *amount.replace(".", ""), "ENTER")
    terminal.expect("Swipe card")
    terminal.swipe(PAN, EXPIRY)
    terminal.expect("ENTER: send")
    terminal.press("ENTER")


def _de7_age_s(de7: str) -> float:
    """Seconds between DE 7 (MMDDhhmmss, UTC, no year) and now."""
    now = datetime.now(UTC)
    sent = datetime.strptime(f"{now.year}{de7}", "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return abs((now - sent).total_seconds())


def test_the_first_send_after_power_on_sets_the_clock_from_the_echo_answer(terminal, acquirer, reboot):
    terminal = reboot(terminal, acquirer=f"{acquirer.host}:{acquirer.port}", no_clock=True)
    idle = " ".join(terminal.expect("FUNC: menu"))
    assert "2000-" not in idle and ":" not in idle.replace("FUNC:", ""), "no date or time shown while unknown"
    _sale(terminal)
    terminal.expect("APPROVED", 20)
    mtis = [m[:4] for m in acquirer.server.received]
    assert mtis == [b"0800", b"0200"], "one echo test, before the sale"
    sale = iso8583.decode(acquirer.server.received[1])
    assert _de7_age_s(sale["7"]) < 120, f"the sale went with the acquirer's time, not 2000-01-01: DE 7 {sale['7']}"
    terminal.press("CANCEL")
    _sale(terminal, "1.00")
    terminal.expect("APPROVED", 20)
    assert [m[:4] for m in acquirer.server.received].count(b"0800") == 1, "once set, the clock is not asked again"
    terminal.press("CANCEL")
    assert str(datetime.now().year) in " ".join(terminal.expect("FUNC: menu")), "idle shows the date once it is known"


def test_no_time_from_the_acquirer_sends_nothing_and_says_why(terminal, acquirer, reboot):
    terminal = reboot(terminal, acquirer="127.0.0.1:9", no_clock=True)  # nothing listens on the discard port
    _sale(terminal)
    screen = terminal.expect("Time not set:", 30)
    assert "nothing sent" in " ".join(screen) and "host unreachable" in " ".join(screen)
    terminal.press("CANCEL")
    screen = terminal.expect("FUNC: menu")
    assert "Reversal pending" not in screen, "nothing went out, so nothing is owed"


def test_a_board_whose_clock_runs_asks_nothing(terminal, acquirer):
    _sale(terminal)
    terminal.expect("APPROVED", 20)
    assert [m[:4] for m in acquirer.server.received] == [b"0200"]
