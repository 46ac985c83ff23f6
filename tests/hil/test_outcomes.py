"""Every outcome a refund can have, in both languages, in the words of protocol.md, on a screen that fits.

The acquirer emulator is told to answer each response code of protocol.md's
table (its ``code:XX`` fault); the terminal-side outcomes come from a dead
address and a silent acquirer.  Each outcome screen must say its words in the
screen's language and fit the panel (the plugin fails a test whose screens
did not).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from micropos.acquirer.ledger import SEED_COLUMNS, Ledger

# protocol.md, "Response codes that the terminal must explain in words"
WORDS = {
    "00": ("APPROVED", "交易成功"),
    "03": ("INVALID MERCHANT", "无效商户"),
    "05": ("DECLINED", "不予承兑"),
    "12": ("INVALID TXN", "无效交易"),
    "13": ("INVALID AMOUNT", "无效金额"),
    "14": ("INVALID CARD", "无效卡号"),
    "25": ("ORIGINAL NOT FOUND", "原交易不存在"),
    "30": ("FORMAT ERROR", "报文格式错"),
    "54": ("EXPIRED CARD", "过期卡"),
    "58": ("NOT PERMITTED", "终端不允许此交易"),
    "64": ("EXCEEDS ORIGINAL", "超过原交易金额"),
    "94": ("DUPLICATE", "重复交易"),
    "95": ("RECONCILE ERROR", "对账不平"),
    "96": ("HOST ERROR", "系统故障"),
    "A0": ("MAC ERROR", "校验错"),
}
SALE_RRN = "612345678901"
LANGUAGES = {"en": 0, "zh": 1}


def _in(terminal, language: str) -> None:
    idle = terminal.expect(("FUNC: menu", "FUNC:菜单"))
    wanted = "FUNC: menu" if language == "en" else "FUNC:菜单"
    if wanted not in idle:
        terminal.press("FUNC", "7", "1", "1" if language == "en" else "2")
        terminal.expect(wanted)


def _refund(terminal, day: date) -> None:
    terminal.press("FUNC", "3", *"123456", "ENTER", "ENTER", *SALE_RRN, "ENTER", *day.strftime("%m%d"), "ENTER",
                   *"1000", "ENTER", "1", "ENTER")


def _seed(acquirer) -> date:
    day = date.today() - timedelta(days=11)
    with Ledger(acquirer.db) as ledger:
        ledger.seed_rows([dict(zip(SEED_COLUMNS, (SALE_RRN, day.isoformat(), "100.00", "6212345678901232", "2812",
                                                  "156", "TERM0001", "MERCHANT0000001"), strict=False))])
    return day


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", WORDS)
def test_each_response_code_is_said_in_words(terminal, acquirer, code, language):
    _in(terminal, language)
    day = _seed(acquirer)
    acquirer.faults.add(f"code:{code},mti=0200,count=1")
    _refund(terminal, day)
    screen = terminal.expect(WORDS[code][LANGUAGES[language]], 20)
    assert ("退货" if language == "zh" else "REFUND") in screen[0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_response_code_is_a_decline_with_its_code(terminal, acquirer, language):
    _in(terminal, language)
    day = _seed(acquirer)
    acquirer.faults.add("code:Q7,mti=0200,count=1")
    _refund(terminal, day)
    terminal.expect("DECLINED Q7" if language == "en" else "交易失败 Q7", 20)


@pytest.mark.parametrize("language", LANGUAGES)
def test_nothing_sent_says_so(terminal, language):
    _in(terminal, language)
    terminal.set("acquirer", "127.0.0.1:9")  # nobody listens there
    _refund(terminal, date.today())
    terminal.expect("NOT DONE - nothing sent" if language == "en" else "交易未完成 未发送", 20)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_answer_says_do_not_pay_out(terminal, acquirer, language):
    _in(terminal, language)
    day = _seed(acquirer)
    terminal.set("response_timeout_s", 1)
    acquirer.faults.add("drop,mti=0200,count=1")
    _refund(terminal, day)
    terminal.expect("NOT DONE - do not pay out" if language == "en" else "交易未完成 请勿付款", 20)
    terminal.press("CANCEL")
    terminal.expect("Reversal pending" if language == "en" else "有冲正待发送")
    _refund(terminal, day)  # the reversal goes out first (a board keeps what it owes from one test to the next)
    assert ("reversal sent" if language == "en" else "冲正已完成") in " ".join(
        terminal.expect("APPROVED" if language == "en" else "交易成功", 20))
