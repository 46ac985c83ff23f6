"""Refunds at the keypad against the acquirer emulator: every outcome a merchant can meet.

Each scenario checks what the screen says and what the acquirer's ledger
holds; the terminal's requests are decoded with pyiso8583 and checked field
by field against the profile.  Every scenario runs twice: with the screens in
English and in 中文 (chosen at the keypad, FUNC 7 1 2, as a merchant does),
expecting the words of design.md and protocol.md in each.  Runs on the
emulator, and unchanged on a board (or virtual board) with --port; power
cuts need the emulator.
"""
from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest

from micropos import iso8583, mac
from micropos.acquirer.ledger import SEED_COLUMNS, Kind, Ledger

PASSWORD = "123456"
SALE_RRN = "612345678901"
SALE_PAN = "6212345678901232"
SALE_EXPIRY = "2812"
OTHER_PAN = "4111111111111111"

# What the screens say, by language: the English words are the keys.
ZH = {
    "Swipe card": "请刷卡", "ENTER: send": "确认:发送", "APPROVED": "交易成功", "FUNC: menu": "FUNC:菜单",
    "RRN": "参考号", "AUTH": "授权码", "Amount": "金额", "no card": "无卡", "Damaged": "商品损坏",
    "Left to refund": "可退金额", "EXCEEDS ORIGINAL": "超过原交易金额", "ORIGINAL NOT FOUND": "原交易不存在",
    "INVALID CARD": "无效卡号", "NOT PERMITTED": "终端不允许此交易", "Date": "日期", "INVALID TXN": "无效交易",
    "NOT DONE - do not pay out": "交易未完成 请勿付款", "No answer: reversal pending": "主机无应答: 冲正待发送",
    "Reversal pending": "有冲正待发送", "reversal sent": "冲正已完成", "Receiving": "接收中", "REVERSAL": "冲正",
    "MAC ERROR": "校验错", "Bad answer: reversal pending": "应答无效: 冲正待发送", "Supervisor pwd": "主管密码",
    "Reprinted": "已重打印", "ENTER: settle": "确认:结算", "Sales": "消费", "Batch closed": "结算成功",
    "RECONCILE ERROR": "对账不平", "Wrong password": "密码错误", "Tries left: 2": "还可试2次",
    "Tries left: 1": "还可试1次", "Locked 5 min": "已锁定 5 分钟", "3 wrong passwords": "密码错误3次",
    "Card no. wrong": "卡号错误", "Expiry YYMM": "有效期YYMM", "ENTER:OK": "确认:继续", "Bad expiry": "有效期错误",
    "Original RRN": "原参考号", "Any key: idle": "任意键返回", "journal full - settle first": "存储已满 请先结算",
    "Reversal first:": "先发冲正:", "refused by the bank": "被银行拒绝", "Batch uploaded": "批上送完成",
    "batch full - settle first": "批次已满 请先结算", "Not in this batch": "本批次无此交易",
    "Already voided": "已撤销", "call the bank": "请联系银行", "host unreachable": "主机不可达",
    "nothing sent": "未发送", "SALE": "消费", "APPROVED ": "成功",
}
W: dict[str, str] = {}  # the words of the language the current test runs in: W["APPROVED"]


@pytest.fixture(params=["en", "zh"], autouse=True)
def language(request, terminal):
    """The screens' language for the test, chosen at the keypad (kept across a reboot, and on a board
    from one test to the next: so it is chosen whenever the idle screen is in the other one)."""
    W.clear()
    if request.param == "zh":
        W.update(ZH)
    idle = terminal.expect(("FUNC: menu", "FUNC:菜单"))
    if w("FUNC: menu") not in idle:
        terminal.press("FUNC", "7", "1", "2" if request.param == "zh" else "1")
        terminal.expect(w("FUNC: menu"))
    return request.param


def w(english: str) -> str:
    """What the screen says for ``english`` in the test's language."""
    return W.get(english, english)


def seed(acquirer, rrn=SALE_RRN, days_ago=11, amount="100.00", pan=SALE_PAN):
    day = date.today() - timedelta(days=days_ago)
    row = dict(zip(SEED_COLUMNS, (rrn, day.isoformat(), amount, pan, SALE_EXPIRY, "156", "TERM0001",
                                  "MERCHANT0000001"), strict=False))
    with Ledger(acquirer.db) as ledger:
        ledger.seed_rows([row])
    return day


def refunded(acquirer, rrn=SALE_RRN) -> int:
    with Ledger(acquirer.db) as ledger:
        sale = ledger.by_rrn(rrn)
        return ledger.refunded(sale.id)


def ledger_rows(acquirer, kind: Kind):
    with Ledger(acquirer.db) as ledger:
        return [t for t in ledger.transactions() if t.kind is kind]


def refund(terminal, *, rrn=SALE_RRN, day: date, amount: str, reason="1", card: tuple[str, str] | None = None):
    """Types a refund exactly as design.md lists the keys; stops on the confirm screen."""
    terminal.press("FUNC", "3", *PASSWORD, "ENTER")
    terminal.expect(w("Swipe card"))
    if card:
        terminal.swipe(*card)
    else:
        terminal.press("ENTER")
    terminal.press(*rrn, "ENTER", *day.strftime("%m%d"), "ENTER", *amount.replace(".", ""), "ENTER", reason)
    return terminal.expect(w("ENTER: send"))


def sale(terminal, amount: str, card=(SALE_PAN, SALE_EXPIRY)) -> str:
    """A sale at this terminal; returns its RRN."""
    terminal.press("FUNC", "1", *amount.replace(".", ""), "ENTER")
    terminal.expect(w("Swipe card"))
    terminal.swipe(*card)
    terminal.expect(w("ENTER: send"))
    terminal.press("ENTER")
    screen = terminal.expect(w("APPROVED"), 20)
    terminal.press("CANCEL")
    terminal.expect(w("FUNC: menu"))
    return rrn_on(screen)


def rrn_on(screen) -> str:
    return next(row.split()[1] for row in screen if row.startswith(w("RRN") + " "))


def last_request(acquirer, mti="0200"):
    raw = [m for m in acquirer.server.received if m[:4] == mti.encode()][-1]
    return raw, iso8583.decode(raw)


def test_full_refund_is_approved_with_its_rrn_and_the_request_follows_the_profile(terminal, acquirer):
    day = seed(acquirer)
    screen = refund(terminal, day=day, amount="100.00")
    shown = " ".join(screen)  # in 中文 the reason shares the ENTER row
    for part in (w("no card"), f"{w('RRN')} {SALE_RRN}", f"{w('Amount')} 100.00", w("Damaged")):
        assert part in shown
    terminal.press("ENTER")
    screen = terminal.expect(w("APPROVED"), 20)
    refund_rrn = rrn_on(screen)
    assert refund_rrn != SALE_RRN and any(row.startswith(w("AUTH") + " ") for row in screen)
    assert refunded(acquirer) == 10000
    (row,) = ledger_rows(acquirer, Kind.REFUND)
    assert row.rrn == refund_rrn and row.reason == "01" and row.pan is None

    raw, fields = last_request(acquirer)
    assert fields["t"] == "0200"
    assert {k: fields[k] for k in ("3", "4", "22", "25", "37", "41", "42", "49", "62")} == {
        "3": "200000", "4": "000000010000", "22": "010", "25": "00", "37": SALE_RRN,
        "41": "TERM0001", "42": "MERCHANT0000001", "49": "156", "62": "01"}
    assert "2" not in fields and "14" not in fields, "a reference-only refund carries no card"
    assert fields["61"] == "000000000000" + day.strftime("%m%d")
    assert len(fields["7"]) == 10 and len(fields["12"]) == 6 and len(fields["13"]) == 4
    assert fields["11"].isdigit() and len(fields["11"]) == 6 and fields["60"].isdigit()
    assert fields["53"].startswith("1234567890123456") and len(fields["53"]) == 24
    key = mac.mac_working_key(mac.DEMO_BDK, fields["53"])
    assert iso8583.verify_mac(raw, key)


def test_two_partial_refunds_then_one_that_exceeds_what_is_left(terminal, acquirer):
    day = seed(acquirer)
    for amount, left in (("30.00", "70.00"), ("50.00", "20.00")):
        refund(terminal, day=day, amount=amount, reason="2")
        terminal.press("ENTER")
        assert f"{w('Left to refund')} {left}" in terminal.expect(w("APPROVED"), 20), "DE 54, as the acquirer says"
        terminal.press("CANCEL")
    refund(terminal, day=day, amount="30.00", reason="2")
    terminal.press("ENTER")
    assert f"{w('Left to refund')} 20.00" in terminal.expect(w("EXCEEDS ORIGINAL"), 20)
    assert refunded(acquirer) == 8000
    assert len(ledger_rows(acquirer, Kind.REFUND)) == 2


@pytest.mark.parametrize("case, words", [
    ("unknown RRN", "ORIGINAL NOT FOUND"),
    ("wrong date", "ORIGINAL NOT FOUND"),
    ("another card", "INVALID CARD"),
    ("window expired", "NOT PERMITTED"),
])
def test_refunds_the_acquirer_declines_say_why_in_words(terminal, acquirer, case, words):
    day = seed(acquirer, days_ago=45 if case == "window expired" else 11)
    kwargs = {"day": day, "amount": "10.00"}
    if case == "unknown RRN":
        kwargs["rrn"] = "699999999999"
    elif case == "wrong date":
        kwargs["day"] = day - timedelta(days=1)
    elif case == "another card":
        kwargs["card"] = (OTHER_PAN, "2812")
    refund(terminal, **kwargs)
    terminal.press("ENTER")
    screen = terminal.expect(w(words), 20)
    assert refunded(acquirer) == 0
    if words == "ORIGINAL NOT FOUND":  # what was typed, to check against the customer's receipt
        assert f"{w('RRN')} {kwargs.get('rrn', SALE_RRN)}" in screen
        assert f"{w('Date')} {kwargs['day']:%m%d}" in screen
    if case == "another card":
        _, fields = last_request(acquirer)
        assert fields["2"] == OTHER_PAN and fields["14"] == "2812" and fields["22"] == "022"


def test_a_refund_of_a_voided_sale_is_an_invalid_transaction(terminal, acquirer):
    rrn = sale(terminal, "20.00")
    voucher = last_request(acquirer)[1]["11"]
    terminal.press("FUNC", "2", *PASSWORD, "ENTER", *voucher.lstrip("0"), "ENTER")  # typed without its zeros
    shown = terminal.expect(f"{w('RRN')} {rrn}")
    assert f"{w('RRN')} {rrn}" in shown and f"{w('Amount')} 20.00" in shown and "621234******1232" in shown
    terminal.press("ENTER")
    terminal.expect(w("Swipe card"))
    terminal.swipe(SALE_PAN, SALE_EXPIRY)
    assert f"{w('Amount')} 20.00" in terminal.expect(w("ENTER: send"))
    terminal.press("ENTER")
    terminal.expect(w("APPROVED"), 20)
    terminal.press("CANCEL")
    _, fields = last_request(acquirer)
    assert fields["3"] == "020000" and fields["4"] == "000000002000" and fields["37"] == rrn
    refund(terminal, rrn=rrn, day=date.today(), amount="5.00")
    terminal.press("ENTER")
    terminal.expect(w("INVALID TXN"), 20)
    assert refunded(acquirer, rrn) == 0


def test_a_repeated_request_is_answered_the_same_and_applied_once(terminal, acquirer):
    day = seed(acquirer)
    refund(terminal, day=day, amount="12.34")
    terminal.press("ENTER")
    first_rrn = rrn_on(terminal.expect(w("APPROVED"), 20))
    raw, _ = last_request(acquirer)
    with socket.create_connection(acquirer.address, timeout=10) as conn:  # the same bytes, sent again
        conn.sendall(iso8583.frame(raw))
        length = int.from_bytes(conn.recv(2), "big")
        answer = b""
        while len(answer) < length:
            answer += conn.recv(length - len(answer))
    again = iso8583.decode(answer)
    assert (again["39"], again["37"]) == ("00", first_rrn)
    assert refunded(acquirer) == 1234


def test_no_response_queues_a_reversal_sent_before_the_next_transaction(terminal, acquirer):
    day = seed(acquirer)
    terminal.set("response_timeout_s", 2)
    acquirer.faults.add("delay:4,mti=0200,count=1")
    refund(terminal, day=day, amount="10.00")
    terminal.press("ENTER")
    terminal.expect(w("NOT DONE - do not pay out"), 20)
    terminal.expect(w("No answer: reversal pending"))
    terminal.press("CANCEL")
    assert w("Reversal pending") in terminal.expect(w("FUNC: menu"))
    refund(terminal, day=day, amount="25.00")
    terminal.press("ENTER")
    assert w("reversal sent") in terminal.expect(w("APPROVED"), 20), "the next outcome says the reversal went out"
    reversal, fields = last_request(acquirer, "0400")
    assert fields["39"] == "98" and fields["3"] == "200000" and fields["4"] == "000000001000"
    refund_sent = [iso8583.decode(m) for m in acquirer.server.received if m[:4] == b"0200"][0]
    assert all(fields[f] == refund_sent[f] for f in ("7", "11", "37", "41", "42", "61"))
    assert refunded(acquirer) == 2500, "the timed-out refund was undone, the next one applied"


@pytest.mark.emulator_only
def test_power_cut_while_waiting_reverses_at_the_next_boot(terminal, acquirer, reboot):
    day = seed(acquirer)
    acquirer.faults.add("delay:3,mti=0200,count=1")
    refund(terminal, day=day, amount="40.00")
    terminal.press("ENTER")
    terminal.expect(w("Receiving"))
    terminal = reboot(terminal, acquirer=f"{acquirer.host}:{acquirer.port}")
    # at boot the reversal is journalled and sent before anything else
    assert w("REVERSAL") in [screen[0] for screen in terminal.screens] or terminal.expect(w("REVERSAL"))
    assert w("Reversal pending") not in terminal.expect(w("FUNC: menu"), 20)
    assert refunded(acquirer) == 0
    assert [iso8583.decode(m)["39"] for m in acquirer.server.received if m[:4] == b"0400"] == ["98"]


def test_a_request_the_acquirer_finds_badly_maced_says_mac_error(terminal, acquirer):
    day = seed(acquirer)
    acquirer.faults.add("code:A0,mti=0200,count=1")
    refund(terminal, day=day, amount="10.00")
    terminal.press("ENTER")
    terminal.expect(w("MAC ERROR"), 20)
    assert refunded(acquirer) == 0


@pytest.mark.parametrize("fault", ["badmac", "nocode"], ids=["bad-mac", "no-de39"])
def test_a_response_with_a_bad_mac_or_no_code_is_rejected_and_reversed(terminal, acquirer, fault):
    day = seed(acquirer)
    acquirer.faults.add(f"{fault},mti=0200,count=1")
    refund(terminal, day=day, amount="10.00")
    terminal.press("ENTER")
    terminal.expect(w("NOT DONE - do not pay out"), 20)
    terminal.expect(w("Bad answer: reversal pending"))
    assert refunded(acquirer) == 1000, "the acquirer applied it; the terminal could not trust the answer"
    terminal.press("CANCEL")
    refund(terminal, day=day, amount="1.00")
    terminal.press("ENTER")
    terminal.expect(w("APPROVED"), 20)
    _, fields = last_request(acquirer, "0400")
    assert fields["39"] == "06"
    assert refunded(acquirer) == 100


def test_a_reversal_the_acquirer_keeps_refusing_says_so_not_unreachable(terminal, acquirer):
    day = seed(acquirer)
    acquirer.faults.add("badmac,mti=0200,count=1")
    acquirer.faults.add("badmac,mti=0400,count=2")  # the reversal's answers fail their MAC, twice
    refund(terminal, day=day, amount="10.00")
    terminal.press("ENTER")
    terminal.expect(w("Bad answer: reversal pending"), 20)
    terminal.press("CANCEL")
    refund(terminal, day=day, amount="1.00")
    terminal.press("ENTER")
    screen = terminal.expect(w("Reversal first:"), 20)
    assert w("refused by the bank") in screen and w("call the bank") in screen
    assert w("host unreachable") not in screen
    assert w("nothing sent") in screen
    terminal.press("CANCEL")
    refund(terminal, day=day, amount="1.00")
    terminal.press("ENTER")
    terminal.expect(w("Reversal first:"), 20)
    terminal.press("CANCEL")
    refund(terminal, day=day, amount="1.00")
    terminal.press("ENTER")
    assert w("reversal sent") in terminal.expect(w("APPROVED"), 20), "the fault gone, the reversal goes first"
    assert refunded(acquirer) == 100


def test_a_key_pressed_while_receiving_does_not_hide_the_outcome(terminal, acquirer):
    day = seed(acquirer)
    acquirer.faults.add("delay:2,mti=0200,count=1")
    refund(terminal, day=day, amount="10.00")
    terminal.press("ENTER")
    terminal.expect(w("Receiving"), 10)
    terminal.press("CANCEL")  # dropped: the outcome has not appeared yet
    shown = terminal.expect(w("APPROVED"), 20)
    terminal.settle()
    assert terminal.screen == shown, "the outcome stays until a key is pressed after it appears"
    terminal.press("CANCEL")
    terminal.expect(w("FUNC: menu"))


def test_refund_from_history_takes_twelve_keys(terminal, acquirer):
    rrn = sale(terminal, "88.00")
    keys = ["FUNC", "4", "FUNC", *PASSWORD, "ENTER", "1", "ENTER"]
    assert len(keys) <= 12
    terminal.press(*keys[:3])
    terminal.expect(w("Supervisor pwd"))
    terminal.press(*keys[3:])
    screen = terminal.expect(w("APPROVED"), 20)
    assert rrn_on(screen) != rrn
    assert refunded(acquirer, rrn) == 8800


def test_history_lists_newest_first_and_reprints(terminal, acquirer):
    first = sale(terminal, "1.00")
    second = sale(terminal, "2.00")
    terminal.press("FUNC", "4")
    screen = terminal.expect(f"{w('SALE')} {w('APPROVED ')}".strip())
    assert f"{w('RRN')} {second}" in screen and f"{w('Amount')} 2.00" in screen
    terminal.press("DOWN")
    assert f"{w('RRN')} {first}" in terminal.expect(f"{w('Amount')} 1.00")
    terminal.press("ENTER")
    terminal.expect(w("Reprinted"))


def test_settlement_balanced_closes_the_batch(terminal, acquirer):
    close_open_batch(terminal, acquirer)
    sale(terminal, "10.00")
    terminal.press("FUNC", "5")
    screen = terminal.expect(w("ENTER: settle"))
    assert f"{w('Sales')} 1 10.00" in screen
    terminal.press("ENTER")
    terminal.expect(w("Batch closed"), 20)
    _, fields = last_request(acquirer, "0500")
    assert fields["63"] == "001000000001000" + "000000000000000" * 2
    terminal.press("CANCEL", "FUNC", "5")
    assert f"{w('Sales')} 0 0.00" in terminal.expect(w("ENTER: settle"))


def test_a_settlement_that_does_not_reconcile_uploads_the_batch_which_closes_it(terminal, acquirer):
    close_open_batch(terminal, acquirer)
    rrn = sale(terminal, "10.00")
    sale(terminal, "3.00")
    seed(acquirer)
    refund(terminal, day=date.today() - timedelta(days=11), amount="2.00")
    terminal.press("ENTER")
    terminal.expect(w("APPROVED"), 20)
    terminal.press("CANCEL")
    with Ledger(acquirer.db) as ledger:  # the bank's books now say 10.01 for that sale
        ledger._db.execute("UPDATE txns SET amount = amount + 1 WHERE rrn = ?", (rrn,))
        ledger._db.commit()
    terminal.press("FUNC", "5")
    batch = next(row for row in terminal.expect(w("ENTER: settle")) if row.split()[-1].isdigit()).split()[-1]
    terminal.press("ENTER")
    screen = terminal.expect(w("RECONCILE ERROR"), 30)
    assert w("Batch closed") in screen and w("Batch uploaded") in screen
    uploads = [iso8583.decode(m) for m in acquirer.server.received if m[:4] == b"0320"]
    assert [u["3"] for u in uploads] == ["200000", "000000", "000000", "960000"], "each approved one, then the end"
    assert {u["11"] for u in uploads[:3]} == {iso8583.decode(m)["11"] for m in acquirer.server.received
                                             if m[:4] == b"0200"}, "each transaction under its own STAN"
    assert all(u["2"].startswith("621234******") for u in uploads[:3] if "2" in u), "the PAN masked, as journalled"
    ksns = [iso8583.decode(m)["53"] for m in acquirer.server.received]
    assert len(set(ksns)) == len(ksns), "no KSN serves two messages"
    with Ledger(acquirer.db) as ledger:
        kept = ledger.uploads("TERM0001", batch)
        assert sorted(row["amount"] for row in kept) == [200, 300, 1000]
        closed = ledger.closed_batch("TERM0001", batch)
        assert closed is not None and closed[1] is False, "closed by the upload, unbalanced"
    terminal.press("CANCEL", "FUNC", "5")
    screen = terminal.expect(w("ENTER: settle"))
    assert f"{w('Sales')} 0 0.00" in screen and batch not in " ".join(screen), "the terminal's batch moved on too"


def close_open_batch(terminal, acquirer):
    """Starts from a closed batch whatever a board's journal held (forced 00 settles anything)."""
    acquirer.faults.add("code:00,mti=0500,count=1")
    terminal.press("FUNC", "5", "ENTER")
    terminal.expect(w("Batch closed"), 20)
    terminal.press("CANCEL")
    terminal.expect(w("FUNC: menu"))


@pytest.mark.emulator_only  # the lock is kept on flash: a board would stay locked for the tests after this one
def test_three_wrong_passwords_lock_refunds_for_five_minutes(terminal, acquirer):
    terminal.press("FUNC", "3", *"111111", "ENTER")
    assert w("Tries left: 2") in terminal.expect(w("Wrong password"))
    terminal.press(*"222222", "ENTER")
    terminal.expect(w("Tries left: 1"))
    terminal.press(*"333333", "ENTER")
    screen = terminal.expect(w("Locked 5 min"))
    assert w("3 wrong passwords") in screen
    terminal.press("CANCEL", "FUNC", "3")
    terminal.expect(w("Locked 5 min"))  # the right password is not even asked for
    assert not acquirer.server.received


def test_a_keyed_card_number_is_luhn_checked_and_cancel_sends_nothing(terminal, acquirer):
    terminal.press("FUNC", "3", *PASSWORD, "ENTER")
    terminal.expect(w("Swipe card"))
    terminal.press("FUNC", *"6212345678901233", "ENTER")
    terminal.expect(w("Card no. wrong"))
    terminal.press("CLEAR", "2", "ENTER")
    terminal.expect(w("Expiry YYMM"))
    terminal.press(*"2813", "ENTER")
    terminal.expect(w("Bad expiry"))
    terminal.press("CLEAR", "CLEAR", *"12", "ENTER")
    terminal.expect(w("Original RRN"))
    terminal.press("CANCEL")
    terminal.expect(w("FUNC: menu"))
    assert not acquirer.server.received


def _full(screen) -> bool:
    return w("journal full - settle first") in " ".join(screen)


@pytest.mark.emulator_only
@pytest.mark.parametrize("language", ["en"], indirect=True)  # 120 sales to fill it: once is enough
def test_a_full_journal_refuses_new_work_until_a_settlement(acquirer, reboot, terminal):
    """With a 2-sector journal, sales fill it; every flow then says so and sends nothing; a settlement clears it."""
    terminal = reboot(terminal, acquirer=f"{acquirer.host}:{acquirer.port}", journal_sectors=2)
    sent = 0
    first_rrn = first_voucher = ""
    for _ in range(200):
        terminal.press("FUNC", "1", "1", "ENTER")
        terminal.expect(w("Swipe card"))
        terminal.swipe(SALE_PAN, SALE_EXPIRY)
        terminal.expect(w("ENTER: send"))
        terminal.press("ENTER")
        screen = terminal.expect((w("APPROVED"), w("journal full - settle first")), 20)
        terminal.press("CANCEL")
        terminal.expect(w("FUNC: menu"))
        if _full(screen):
            break
        assert w("APPROVED") in " ".join(screen)
        if not first_rrn:
            first_rrn, first_voucher = rrn_on(screen), last_request(acquirer)[1]["11"]
        sent += 1
    else:
        pytest.fail("the journal never filled")
    assert 50 < sent < 200
    requests = len(acquirer.server.received)
    assert requests == sent, "the refused sale was never sent"

    def refused(*keys: str, card: bool = False) -> None:
        """Types ``keys`` (swiping the sale's card where asked); the flow must end on the journal-full words."""
        terminal.press(*keys)
        if card:
            terminal.expect(w("Swipe card"))
            terminal.swipe(SALE_PAN, SALE_EXPIRY)
            terminal.expect(w("ENTER: send"))
            terminal.press("ENTER")
        screen = terminal.expect((w("journal full - settle first"), "ERROR"), 20)
        assert _full(screen) and "ERROR" not in screen, screen
        terminal.press("CANCEL")
        terminal.expect(w("FUNC: menu"))

    refused("FUNC", "2", *PASSWORD, "ENTER", *first_voucher, "ENTER", "ENTER", card=True)  # void
    today = date.today().strftime("%m%d")
    refused("FUNC", "3", *PASSWORD, "ENTER", "ENTER", *first_rrn, "ENTER", *today, "ENTER", "1", "ENTER", "1",
            "ENTER")  # refund, reference only
    refused("FUNC", "4", "FUNC", *PASSWORD, "ENTER", "1", "ENTER")  # refund from history
    assert len(acquirer.server.received) == requests, "a refused transaction was sent"
    terminal.press("FUNC", "5", "ENTER")
    terminal.expect(w("Batch closed"), 20)  # a settlement is possible on a full journal; its records may go now
    terminal.press("CANCEL")
    assert sale(terminal, "0.01")


def test_a_full_batch_refuses_new_work_until_a_settlement(terminal, acquirer):
    """A batch holds config.batch_limit approved transactions (500; 3 here): then "batch full - settle first"."""
    close_open_batch(terminal, acquirer)
    terminal.set("batch_limit", "3")
    sale(terminal, "1.00")
    voucher = last_request(acquirer)[1]["11"]
    sale(terminal, "2.00")
    day = seed(acquirer)
    refund(terminal, day=day, amount="3.00")
    terminal.press("ENTER")
    terminal.expect(w("APPROVED"), 20)
    terminal.press("CANCEL")
    sent = len(acquirer.server.received)
    terminal.press("FUNC", "1", "1", "ENTER")
    terminal.expect(w("Swipe card"))
    terminal.swipe(SALE_PAN, SALE_EXPIRY)
    terminal.expect(w("ENTER: send"))
    terminal.press("ENTER")
    assert w("nothing sent") in terminal.expect(w("batch full - settle first"), 20)
    terminal.press("CANCEL", "FUNC", "2", *PASSWORD, "ENTER", *voucher, "ENTER", "ENTER")
    terminal.expect(w("Swipe card"))
    terminal.swipe(SALE_PAN, SALE_EXPIRY)
    terminal.expect(w("ENTER: send"))
    terminal.press("ENTER")
    terminal.expect(w("batch full - settle first"), 20)
    assert len(acquirer.server.received) == sent, "refused before anything was sent"
    terminal.press("CANCEL", "FUNC", "5", "ENTER")  # a settlement is always possible
    terminal.expect(w("Batch closed"), 20)
    _, fields = last_request(acquirer, "0500")
    assert fields["63"][:18] == "002000000000300001", "2 sales of 3.00, 1 refund"
    terminal.press("CANCEL")
    sale(terminal, "4.00")


def test_a_void_names_its_sale_by_voucher_number_and_refuses_anything_else(terminal, acquirer):
    close_open_batch(terminal, acquirer)
    sale(terminal, "5.00")
    voucher = last_request(acquirer)[1]["11"]
    sent = len(acquirer.server.received)
    terminal.press("FUNC", "2", *PASSWORD, "ENTER", "9", "9", "9", "9", "9", "9", "ENTER")
    terminal.expect(w("Not in this batch"))
    terminal.press("CANCEL", "FUNC", "2", *PASSWORD, "ENTER", *voucher, "ENTER", "ENTER")
    terminal.expect(w("Swipe card"))
    terminal.swipe(SALE_PAN, SALE_EXPIRY)
    terminal.expect(w("ENTER: send"))
    terminal.press("ENTER")
    terminal.expect(w("APPROVED"), 20)
    terminal.press("CANCEL", "FUNC", "2", *PASSWORD, "ENTER", *voucher, "ENTER")
    terminal.expect(w("Already voided"))
    terminal.press("CANCEL")
    terminal.expect(w("FUNC: menu"))
    assert len(acquirer.server.received) == sent + 1, "only the one void was sent"
