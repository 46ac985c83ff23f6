"""History, reprint and the settlement report (issue 13), run on the emulator against a real acquirer.

The receipts are read where the emulator's printer leaves them (beside the
flash image, as text): what a merchant would find on paper.
"""
from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from micropos.acquirer.server import RunningAcquirer, start_in_thread
from micropos.hil.plugin import assert_fits
from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport

PAN, EXPIRY = "6212345678901232", "3012"
PASSWORD = "123456"
ZH = {"HISTORY": "交易查询", "SALE": "消费", "VOID": "撤销", "APPROVED": "成功", "VOIDED": "已撤销",
      "VOUCHER NO.": "凭证号", "FUNC: refund": "FUNC:退货", "Already voided": "已撤销",
      "nothing left to refund": "无可退金额", "Supervisor pwd": "主管密码", "FUNC: menu": "FUNC:菜单"}


@pytest.fixture
def acquirer() -> Iterator[RunningAcquirer]:
    with tempfile.TemporaryDirectory() as tmp, start_in_thread(Path(tmp) / "ledger.sqlite3") as running:
        yield running


@pytest.fixture
def flash(tmp_path: Path) -> Path:
    return tmp_path / "flash.img"


@pytest.fixture
def terminal(flash: Path, acquirer: RunningAcquirer) -> Iterator[Terminal]:
    env = {"MICROPOS_FLASH": str(flash), "MICROPOS_ACQUIRER": f"{acquirer.host}:{acquirer.port}"}
    with Terminal(EmulatorTransport(env=env)) as term:
        term.ready()
        yield term
    assert_fits(term)


def _sale(term: Terminal, amount: str) -> None:
    term.press("FUNC", "1", *amount, "ENTER")
    _swipe_and_send(term)
    term.expect(("FUNC: menu", "FUNC:菜单"))


def _void(term: Terminal, voucher: str) -> None:
    term.press("FUNC", "2", *PASSWORD, "ENTER", *voucher, "ENTER", "ENTER")
    _swipe_and_send(term)


def _swipe_and_send(term: Terminal) -> None:
    """From the card screen: the card, ENTER on the confirm screen, APPROVED, back to idle."""
    term.expect(("Swipe card", "请刷卡"))
    term.swipe(PAN, EXPIRY)
    term.expect(("ENTER: send", "确认:发送"))
    term.press("ENTER")
    term.expect(("APPROVED", "交易成功"), 20)
    term.press("CANCEL")


def _receipts(flash: Path) -> str:
    path = Path(str(flash) + ".receipts.txt")
    return path.read_text() if path.exists() else ""


@pytest.mark.parametrize("language", ["en", "zh"])
def test_history_says_n_of_n_voided_the_voucher_and_the_time_and_refuses_what_is_left_before_the_password(
        terminal, language):
    w = (lambda s: ZH.get(s, s)) if language == "zh" else (lambda s: s)
    if language == "zh":
        terminal.press("FUNC", "7", "1", "2")
        terminal.expect("FUNC:菜单")
    _sale(terminal, "1000")  # voucher 1
    _sale(terminal, "500")  # voucher 2
    _void(terminal, "1")  # voucher 3
    terminal.press("FUNC", "4")
    newest = " ".join(terminal.expect("1/3"))
    assert w("VOID") in newest and "000003" in newest
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", newest), "a readable date and time"
    assert not re.search(r"\d\d:\d\d \d\d$", newest), "no response code after the time"
    terminal.press("DOWN")
    second = " ".join(terminal.expect("2/3"))
    assert "000002" in second and "5.00" in second
    if language == "en":
        assert "FUNC: refund" in second
    terminal.press("DOWN")
    voided = " ".join(terminal.expect("3/3"))
    assert w("VOIDED") in voided and "000001" in voided
    terminal.press("FUNC")
    refused = " ".join(terminal.expect(w("Already voided")))
    assert w("Supervisor pwd") not in refused, "refused before the password"


def test_a_sale_refunded_in_full_has_nothing_left_and_history_says_so_before_the_password(terminal, acquirer):
    _sale(terminal, "300")
    terminal.press("FUNC", "4", "FUNC", *PASSWORD, "ENTER", "1", "ENTER")  # design.md's 12 keys: all of it
    terminal.expect("APPROVED", 20)
    terminal.press("CANCEL")
    terminal.expect("FUNC: menu")
    sent = len(acquirer.server.received)
    terminal.press("FUNC", "4", "DOWN")
    assert "FUNC: refund" not in terminal.expect("2/2")
    terminal.press("FUNC")
    screen = terminal.expect("nothing left to refund")
    assert "Supervisor pwd" not in screen
    assert len(acquirer.server.received) == sent, "nothing sent"


def test_reprint_last_any_by_voucher_the_settlement_report_and_the_detail_list(terminal, flash):
    _sale(terminal, "1234")  # voucher 1
    _sale(terminal, "500")  # voucher 2
    _void(terminal, "2")  # voucher 3
    terminal.press("FUNC", "6")
    menu = " ".join(terminal.expect("1 Last receipt"))
    assert all(item in menu for item in ("1 Last receipt", "2 By voucher no.", "3 SETTLEMENT REPORT", "4 DETAIL LIST"))
    terminal.press("1")
    terminal.expect("Reprinted")
    last = _receipts(flash).split("-" * 32)[-3:-1]  # the two copies just printed
    assert all("REPRINT" in copy and "VOID" in copy and "000003" in copy for copy in last)
    terminal.press("CANCEL", "FUNC", "6", "2", "1", "ENTER")
    terminal.expect("SALE 12.34")
    again = _receipts(flash).split("-" * 32)[-2]
    assert "REPRINT" in again and "12.34" in again and "000001" in again
    terminal.press("CANCEL", "FUNC", "6", "2", "9", "9", "ENTER")
    terminal.expect("No such voucher")
    terminal.press("CANCEL", "CANCEL")

    terminal.press("FUNC", "5")
    totals = " ".join(terminal.expect("ENTER: settle"))
    assert "Sales 2" in totals and "Voids 1" in totals and "NET 12.34" in totals
    terminal.press("ENTER")
    terminal.expect("Batch closed", 20)
    terminal.press("CANCEL")
    report = _receipts(flash).split("-" * 32)[-2]
    assert "SETTLEMENT REPORT" in report and "MERCHANT COPY" in report and "CUSTOMER COPY" not in report
    assert re.search(r"Sales 2 +CNY 17\.34", report) and re.search(r"Voids 1 +CNY 5\.00", report)
    assert re.search(r"NET +CNY 12\.34", report) and "Balanced" in report
    assert _receipts(flash).count("SETTLEMENT REPORT") == 1, "the merchant's copy only"
    terminal.press("FUNC", "6", "3")
    terminal.expect("SETTLEMENT REPORT", 10)
    terminal.settle()
    reprinted = _receipts(flash).split("-" * 32)[-2]
    assert "SETTLEMENT REPORT REPRINT" in reprinted and re.search(r"NET +CNY 12\.34", reprinted)

    terminal.press("CANCEL")
    terminal.expect("FUNC: menu")
    _sale(terminal, "700")  # the open batch now: one sale
    terminal.press("FUNC", "6", "4")
    terminal.expect("DETAIL LIST")
    terminal.settle()
    detail = _receipts(flash).split("-" * 32)[-2]
    assert "DETAIL LIST" in detail and re.search(r"\d{6} SALE +7\.00 APPROVED", detail)
    assert "000001 SALE" not in detail, "the open batch only"


def test_a_reversal_is_never_a_customers_receipt_and_no_word_key_reaches_paper_or_screen(terminal, acquirer, flash):
    acquirer.faults.add("delay:40,mti=0200,count=1")  # no answer in time: the sale is reversed
    terminal.set("response_timeout_s", "1")
    terminal.press("FUNC", "1", *"250", "ENTER")
    terminal.expect("Swipe card")
    terminal.swipe(PAN, EXPIRY)
    terminal.expect("ENTER: send")
    terminal.press("ENTER")
    terminal.expect("reversal pending", 20)
    terminal.press("CANCEL")
    _sale(terminal, "100")  # the reversal goes first
    terminal.press("FUNC", "4", "DOWN")
    assert "REVERSAL" in " ".join(terminal.expect("2/3"))  # the reversal, in history
    terminal.press("ENTER")
    terminal.expect("Reprinted")
    terminal.press("CANCEL", "FUNC", "6", "2", "1", "ENTER")  # the reversed sale, by its voucher number
    terminal.expect("SALE 2.50")
    slips = [s for s in _receipts(flash).split("-" * 32) if s.strip()]
    reversal_slips = [s for s in slips if "\nREVERSAL\n" in s]
    assert reversal_slips and all("CUSTOMER COPY" not in s for s in reversal_slips)
    assert any("REVERSED" in s and "2.50" in s for s in slips), "the reversed sale reprints with its status"
    keys = re.compile(r"\b(?:rc|status|reason)_\w+|\b[a-z]+_[a-z_]+\b")
    for text in [*slips, *(" ".join(screen) for screen in terminal.screens)]:
        assert not keys.search(text), f"a word key reached paper or screen: {text!r}"
