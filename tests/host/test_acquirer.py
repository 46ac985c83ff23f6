"""The acquirer emulator over real TCP: rules, response codes, ledger, faults, CLI.

Requests are built as a terminal would: fields encoded with the stock
pyiso8583 library and the profile's spec, MACed with the DUKPT working key
of a fresh KSN derived from the terminal's initial key (never the BDK).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import iso8583 as pyiso8583
from micropos import mac
from micropos.acquirer import Fault, FaultKind, RunningAcquirer, start_in_thread
from micropos.acquirer.faults import FaultSpecError, parse_fault
from micropos.acquirer.ledger import Ledger, SeedError
from micropos.acquirer_cli import run as run_cli
from micropos.errors import MicroposError
from micropos.iso8583 import SPEC

NOW = datetime(2024, 11, 20, 10, 0, 0)
TID, MID = "TERM0001", "MERCHANT0000001"
PAN = "6212345678901232"          # Luhn-valid
OTHER_PAN = "6212345678909996"
IKID = mac.DEMO_INITIAL_KEY_ID

SEED = f"""rrn,date,amount,pan,expiry,currency,terminal_id,merchant_id
612345678901,2024-11-11,100.00,{PAN},2812,156,TERM0001,MERCHANT0000001
612345678902,2024-11-12,50.00,{PAN},2812,156,TERM0001,MERCHANT0000001
612345678903,2024-09-01,20.00,{PAN},2812,156,TERM0001,MERCHANT0000001
712345678901,2024-11-11,30.00,{PAN},2812,156,TERM0002,MERCHANT0000002
"""


# -- a terminal, as far as the wire goes ------------------------------------------


class Term:
    """Builds, MACs and sends requests like the firmware does; checks responses like it does."""

    def __init__(self, address: tuple[str, int], tid: str = TID, mid: str = MID, ikid: bytes = IKID) -> None:
        self.address = address
        self.tid, self.mid = tid, mid
        self.ikid = ikid
        self.initial_key = mac.initial_key(mac.DEMO_BDK, ikid)  # what the terminal is loaded with
        self.stan = 0
        self.counter = 0
        self.sock: socket.socket | None = None
        self.last_raw: bytes = b""

    # building

    def base(self, mti: str, pc: str, **fields: str | None) -> dict[str, str]:
        self.stan += 1
        stan = f"{self.stan:06d}"
        doc: dict[str, str | None] = {
            "t": mti, "3": pc, "7": f"1120{self.stan:06d}", "11": stan, "12": "100000", "13": "1120",
            "22": "022", "25": "00", "41": self.tid, "42": self.mid, "49": "156", "60": "000001",
        }
        doc.update(fields)
        return {k: v for k, v in doc.items() if v is not None}

    def sale(self, amount: int, pan: str = PAN, **fields: str | None) -> dict[str, str]:
        return self.base("0200", "000000", **{"2": pan, "4": f"{amount:012d}", "14": "2812", **fields})

    def refund(self, rrn: str, mmdd: str, amount: int, pan: str | None = PAN, **fields: str | None) -> dict[str, str]:
        card = {"2": pan, "14": "2812"} if pan else {}
        return self.base("0200", "200000", **{**card, "4": f"{amount:012d}", "37": rrn,
                                               "61": f"000000000000{mmdd}", "62": "01", **fields})

    def void(self, rrn: str, amount: int, pan: str = PAN, **fields: str | None) -> dict[str, str]:
        return self.base("0200", "020000", **{"2": pan, "4": f"{amount:012d}", "37": rrn,
                                               "61": "0000010000011120", **fields})

    @staticmethod
    def reversal(of: dict[str, str], reason: str = "98") -> dict[str, str]:
        keep = ("2", "3", "4", "7", "11", "12", "13", "22", "37", "41", "42", "49", "60", "61")
        return {"t": "0400", **{k: of[k] for k in keep if k in of}, "39": reason}

    def settlement(self, totals: str, batch: str = "000001") -> dict[str, str]:
        doc = self.base("0500", "920000", **{"60": batch, "63": totals})
        return {k: doc[k] for k in ("t", "3", "7", "11", "41", "42", "49", "60", "63")}

    def echo(self) -> dict[str, str]:
        doc = self.base("0800", "990000")
        return {k: doc[k] for k in ("t", "3", "7", "11", "41", "42")}

    def pack(self, fields: dict[str, str], *, corrupt_mac: bool = False, mac_counter: int | None = None
             ) -> tuple[bytes, bytes | None]:
        """Encodes with pyiso8583; MACs with the key of a fresh KSN (None key for the echo test)."""
        doc = dict(fields)
        if doc["t"] == "0800":
            raw, _ = pyiso8583.encode(doc, SPEC)
            return bytes(raw), None
        self.counter += 1
        doc["53"] = mac.make_ksn(self.ikid, self.counter).hex().upper()
        doc["64"] = "00" * 8
        raw, _ = pyiso8583.encode(doc, SPEC)
        key = mac.working_key_from_initial(self.initial_key, self.ikid, self.counter)
        signing_key = key if mac_counter is None else mac.working_key_from_initial(
            self.initial_key, self.ikid, mac_counter)
        code = mac.mac_message(signing_key, bytes(raw[:-8]))
        if corrupt_mac:
            code = bytes([code[0] ^ 0x01]) + code[1:]
        return bytes(raw[:-8]) + code, key

    # sending

    def connect(self, timeout: float = 5.0) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=timeout)
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send_raw(self, data: bytes) -> None:
        self.connect().sendall(data)

    def read_frame(self) -> bytes | None:
        sock = self.connect()
        header = _recv_exactly(sock, 2)
        if not header:
            return None
        length = int.from_bytes(header, "big")
        body = _recv_exactly(sock, length)
        assert len(body) == length
        self.last_raw = body
        return body

    def send(self, fields: dict[str, str], **pack: object) -> dict[str, str]:
        """One exchange; asserts the response would be accepted by the terminal."""
        raw, key = self.pack(fields, **pack)  # type: ignore[arg-type]
        self.send_raw(len(raw).to_bytes(2, "big") + raw)
        body = self.read_frame()
        assert body is not None, "the acquirer closed without answering"
        response, _ = pyiso8583.decode(body, SPEC)
        assert response["t"] == fields["t"][:2] + str(int(fields["t"][2]) + 1) + fields["t"][3]
        for f in ("3", "4", "11", "41"):
            assert response.get(f) == fields.get(f), f"DE {f} not echoed"
        if key is not None and "64" in response:
            assert mac.verify_mac(key, body[:-8], body[-8:]), "response MAC does not verify"
        return response


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


# -- fixtures ------------------------------------------------------------------


@pytest.fixture
def seed_csv(tmp_path: Path) -> Path:
    path = tmp_path / "seed.csv"
    path.write_text(SEED)
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite3"


@pytest.fixture
def acquirer(db: Path, seed_csv: Path) -> Iterator[RunningAcquirer]:
    with start_in_thread(db, seed_csv, clock=lambda: NOW) as running:
        yield running
    with Ledger(db) as ledger:  # whatever the test did, each sale's kept totals are what its rows say
        assert ledger.mismatched_totals() == []


@pytest.fixture
def term(acquirer: RunningAcquirer) -> Iterator[Term]:
    t = Term(acquirer.address)
    yield t
    t.close()


def rows(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def count_kind(db: Path, kind: str) -> int:
    return rows(db, "SELECT COUNT(*) FROM txns WHERE kind = ? AND reversed_at IS NULL", kind)[0][0]


def remaining(db: Path, rrn: str) -> int | None:
    with Ledger(db) as ledger:
        for sale in ledger.refundable_sales():
            if sale.rrn == rrn:
                return sale.remaining
    return None


# -- refunds: the rejection table ---------------------------------------------------

REFUND_OK = {"rrn": "612345678901", "mmdd": "1111", "amount": 1234}


def _voided_sale(term: Term) -> dict:
    sale = term.send(term.sale(4200))
    assert term.send(term.void(sale["37"], 4200))["39"] == "00"
    return {"rrn": sale["37"], "mmdd": "1120", "amount": 100}


def _two_partials(term: Term) -> dict:
    assert term.send(term.refund("612345678902", "1112", 2000))["39"] == "00"
    assert term.send(term.refund("612345678902", "1112", 2500))["39"] == "00"
    return {"rrn": "612345678902", "mmdd": "1112", "amount": 501}  # 500 left


# (setup run first, refund arguments, request fields, MAC options) -> DE 39
REJECTIONS = [
    pytest.param(None, {"rrn": "699999999999"}, {}, {}, "25", id="25-rrn-not-found"),
    pytest.param(None, {"mmdd": "1112"}, {}, {}, "25", id="25-date-differs"),
    pytest.param(None, {"rrn": "712345678901"}, {}, {}, "25", id="25-other-merchants-sale"),
    pytest.param(None, {}, {"41": "TERM9999"}, {}, "03", id="03-unknown-terminal"),
    pytest.param(None, {}, {"42": "MERCHANT9999999"}, {}, "03", id="03-unknown-merchant"),
    pytest.param(None, {}, {"41": "TERM0002"}, {}, "03", id="03-terminal-of-another-merchant"),
    pytest.param(None, {"pan": OTHER_PAN}, {}, {}, "14", id="14-card-differs"),
    pytest.param(None, {}, {"49": "840"}, {}, "12", id="12-currency-differs"),
    pytest.param(None, {"amount": 0}, {}, {}, "13", id="13-zero-amount"),
    pytest.param(None, {"amount": 10001}, {}, {}, "64", id="64-exceeds-original"),
    pytest.param(_two_partials, {}, {}, {}, "64", id="64-after-two-partials"),
    pytest.param(_voided_sale, {}, {}, {}, "12", id="12-voided-original"),
    pytest.param(None, {"rrn": "612345678903", "mmdd": "0901"}, {}, {}, "58", id="58-window-expired"),
    pytest.param(None, {}, {}, {"corrupt_mac": True}, "A0", id="A0-mac-corrupted"),
    pytest.param(None, {}, {}, {"mac_counter": 7}, "A0", id="A0-mac-under-another-ksn"),
    pytest.param(None, {}, {"61": None}, {}, "30", id="30-missing-original-data"),
]


@pytest.mark.parametrize(("setup", "refund", "fields", "pack", "code"), REJECTIONS)
def test_refund_rejections(
    term: Term, db: Path, setup: Callable[[Term], dict] | None, refund: dict, fields: dict, pack: dict, code: str
) -> None:
    args = {**REFUND_OK, **(setup(term) if setup else {}), **refund}
    refunds_before = count_kind(db, "REFUND")
    exchanges_before = rows(db, "SELECT COUNT(*) FROM exchanges")[0][0]
    request = term.refund(args["rrn"], args["mmdd"], args["amount"], pan=args.get("pan", PAN), **fields)
    response = term.send(request, **pack)
    assert response["39"] == code
    assert "38" not in response
    assert len(response["37"]) == 12
    assert count_kind(db, "REFUND") == refunds_before
    if code in ("A0", "30"):  # decided before the rules: not even remembered
        assert rows(db, "SELECT COUNT(*) FROM exchanges")[0][0] == exchanges_before
    # DE 54 whenever the original was found, whatever DE 39 says (protocol v1.1)
    found = code not in ("25", "03", "A0", "30")
    assert ("54" in response) == found, response
    if found:
        assert response["54"][:3] == "156" and len(response["54"]) == 15


def test_a_refund_answer_says_what_is_left_to_refund(term: Term) -> None:
    first = term.send(term.refund("612345678902", "1112", 2000))
    assert (first["39"], first["54"]) == ("00", "156000000003000")  # 50.00 - 20.00
    too_much = term.send(term.refund("612345678902", "1112", 3001))
    assert (too_much["39"], too_much["54"]) == ("64", "156000000003000")
    last = term.send(term.refund("612345678902", "1112", 3000))
    assert (last["39"], last["54"]) == ("00", "156000000000000")
    assert "54" not in term.send(term.refund("699999999999", "1112", 100))  # 25: no original, nothing left to say


def test_the_echo_answer_carries_the_acquirers_own_utc_time(term: Term) -> None:
    request = term.echo()
    request["7"] = "0101000000"  # a terminal with no clock after power-on
    answer = term.send(request)
    now = datetime.now(UTC)
    told = datetime.strptime(f"{now.year}{answer['7']}", "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert abs((now - told).total_seconds()) < 120


def test_missing_mac_answers_a0(term: Term) -> None:
    request = term.refund("612345678901", "1111", 1234)
    raw, _ = pyiso8583.encode(dict(request), SPEC)  # no DE 53, no DE 64
    term.send_raw(len(raw).to_bytes(2, "big") + bytes(raw))
    response, _ = pyiso8583.decode(term.read_frame() or b"", SPEC)
    assert response["39"] == "A0"
    assert "64" not in response


def test_mac_verifies_for_any_ksn_under_the_demo_bdk(acquirer: RunningAcquirer) -> None:
    other = Term(acquirer.address, ikid=bytes.fromhex("FFFF0000ABCDEF01"))
    other.counter = 0xFFFE0000 - 1
    try:
        assert other.send(other.refund("612345678901", "1111", 100))["39"] == "00"
    finally:
        other.close()


def test_refund_approved_with_own_rrn(term: Term, db: Path) -> None:
    response = term.send(term.refund("612345678901", "1111", 1234))
    assert response["39"] == "00"
    assert len(response["38"]) == 6
    assert response["37"] != "612345678901" and len(response["37"]) == 12
    ((kind, amount, orig_rrn, reason),) = rows(
        db, "SELECT r.kind, r.amount, s.rrn, r.reason FROM txns r JOIN txns s ON r.orig_id = s.id WHERE r.rrn = ?",
        response["37"])
    assert (kind, amount, orig_rrn, reason) == ("REFUND", 1234, "612345678901", "01")
    assert remaining(db, "612345678901") == 10000 - 1234


def test_reference_only_refund_without_card(term: Term) -> None:
    assert term.send(term.refund("612345678902", "1112", 500, pan=None))["39"] == "00"


def test_two_partials_then_one_too_many(term: Term, db: Path) -> None:
    assert term.send(term.refund("612345678902", "1112", 2000))["39"] == "00"
    assert term.send(term.refund("612345678902", "1112", 2500))["39"] == "00"
    assert remaining(db, "612345678902") == 500
    assert term.send(term.refund("612345678902", "1112", 501))["39"] == "64"
    assert term.send(term.refund("612345678902", "1112", 500))["39"] == "00"
    assert remaining(db, "612345678902") is None  # fully refunded: no longer listed
    assert count_kind(db, "REFUND") == 3


def test_refund_window_is_configurable(db: Path, seed_csv: Path) -> None:
    with start_in_thread(db, seed_csv, clock=lambda: NOW, refund_window_days=100) as running:
        t = Term(running.address)
        try:
            assert t.send(t.refund("612345678903", "0901", 100))["39"] == "00"
            running.acquirer.refund_window_days = 5
            assert t.send(t.refund("612345678902", "1112", 100))["39"] == "58"
        finally:
            t.close()


# -- duplicates -------------------------------------------------------------------


def test_repeat_returns_first_answer_and_applies_once(term: Term, db: Path) -> None:
    request = term.refund("612345678901", "1111", 1000)
    first = term.send(request)
    again = term.send(request)  # same TID + STAN + DE 7, under a fresh KSN
    assert first["39"] == "00"
    assert again == {**first, "64": again["64"]}
    assert first["64"] != again["64"]  # re-MACed for the repeat's own KSN
    assert count_kind(db, "REFUND") == 1
    assert remaining(db, "612345678901") == 9000


def test_repeat_of_a_declined_request_is_declined_the_same(term: Term, db: Path) -> None:
    request = term.refund("612345678901", "1111", 20000)
    assert term.send(request)["39"] == "64"
    assert term.send(request)["39"] == "64"


def test_same_key_different_content_answers_94(term: Term, db: Path) -> None:
    request = term.refund("612345678901", "1111", 1000)
    assert term.send(request)["39"] == "00"
    assert term.send({**request, "4": "000000002000"})["39"] == "94"
    assert count_kind(db, "REFUND") == 1


def test_a_repeat_is_recognised_by_the_fingerprint_an_older_ledger_stored(term: Term, db: Path) -> None:
    request = term.refund("612345678901", "1111", 1000)
    first = term.send(request)
    content = {k: v for k, v in request.items() if k not in ("p", "53", "64")}
    version_1 = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    with sqlite3.connect(db) as conn:  # as the first micropos ledgers stored it: bare hex of sorted JSON
        assert conn.execute("UPDATE exchanges SET fingerprint = ? WHERE mti = '0200'", (version_1,)).rowcount == 1
    again = term.send(request)
    assert first["39"] == "00" and again == {**first, "64": again["64"]}
    assert term.send({**request, "4": "000000002000"})["39"] == "94"
    assert count_kind(db, "REFUND") == 1


# -- reversals --------------------------------------------------------------------


def test_reversal_undoes_a_refund(term: Term, db: Path) -> None:
    refund = term.refund("612345678901", "1111", 3000)
    approved = term.send(refund)
    assert approved["39"] == "00"
    assert remaining(db, "612345678901") == 7000
    reversal = term.send(term.reversal(refund))
    assert reversal["39"] == "00"
    assert remaining(db, "612345678901") == 10000
    assert rows(db, "SELECT reversed_at IS NOT NULL FROM txns WHERE rrn = ?", approved["37"]) == [(1,)]
    # A repeated reversal is answered the same and undoes nothing more.
    assert term.send(term.reversal(refund))["39"] == "00"
    assert remaining(db, "612345678901") == 10000


def test_reversal_of_never_received_request_answers_00(term: Term, db: Path) -> None:
    lost = term.refund("612345678901", "1111", 3000)
    assert term.send(term.reversal(lost))["39"] == "00"
    assert count_kind(db, "REFUND") == 0
    # Should the lost request turn up after its reversal, it is not applied.
    assert term.send(lost)["39"] == "94"
    assert count_kind(db, "REFUND") == 0
    assert remaining(db, "612345678901") == 10000


def test_reversal_undoes_a_void_and_a_sale(term: Term, db: Path) -> None:
    sale_request = term.sale(4200)
    sale = term.send(sale_request)
    void_request = term.void(sale["37"], 4200)
    assert term.send(void_request)["39"] == "00"
    assert remaining(db, sale["37"]) is None
    assert term.send(term.reversal(void_request))["39"] == "00"
    assert remaining(db, sale["37"]) == 4200
    assert term.send(term.reversal(sale_request))["39"] == "00"
    assert remaining(db, sale["37"]) is None
    assert count_kind(db, "SALE") == 4  # the seeded ones only


def test_reversal_of_a_declined_request_changes_nothing(term: Term, db: Path) -> None:
    declined = term.refund("612345678901", "1111", 20000)
    assert term.send(declined)["39"] == "64"
    assert term.send(term.reversal(declined))["39"] == "00"
    assert remaining(db, "612345678901") == 10000


# -- sales, voids, settlement, echo ------------------------------------------------


@pytest.mark.parametrize(
    ("sale", "code"),
    [
        pytest.param({}, "00", id="00-approved"),
        pytest.param({"2": "6212345678901234"}, "14", id="14-luhn"),
        pytest.param({"14": "2410"}, "54", id="54-expired"),
        pytest.param({"4": "000000000000"}, "13", id="13-zero"),
        pytest.param({"41": "TERM9999"}, "03", id="03-unknown-terminal"),
        pytest.param({"14": None}, "30", id="30-missing-expiry"),
    ],
)
def test_sale_rules(term: Term, sale: dict, code: str) -> None:
    assert term.send(term.sale(1500, **sale))["39"] == code


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param({"rrn": "699999999999"}, "25", id="25-not-found"),
        pytest.param({"amount": 4000}, "13", id="13-amount-differs"),
        pytest.param({"pan": OTHER_PAN}, "14", id="14-card-differs"),
        pytest.param({"seeded": True}, "12", id="12-settled-original"),
    ],
)
def test_void_rules(term: Term, change: dict, code: str) -> None:
    sale = term.send(term.sale(4200))
    rrn = "612345678901" if change.get("seeded") else change.get("rrn", sale["37"])
    amount = 10000 if change.get("seeded") else change.get("amount", 4200)
    assert term.send(term.void(rrn, amount, pan=change.get("pan", PAN)))["39"] == code


def test_void_twice_answers_12(term: Term) -> None:
    sale = term.send(term.sale(4200))
    assert term.send(term.void(sale["37"], 4200))["39"] == "00"
    assert term.send(term.void(sale["37"], 4200))["39"] == "12"


def totals(sales: tuple[int, int], refunds: tuple[int, int], voids: tuple[int, int]) -> str:
    return "".join(f"{n:03d}{amount:012d}" for n, amount in (sales, refunds, voids))


def test_settlement_reconciles_or_answers_95(term: Term, db: Path) -> None:
    a = term.send(term.sale(1000))
    term.send(term.sale(2000))
    term.send(term.refund("612345678901", "1111", 500))
    term.send(term.void(a["37"], 1000))
    lost = term.sale(7777)
    term.send(lost)
    term.send(term.reversal(lost))  # reversed: not in the totals
    assert term.send(term.sale(3000, **{"60": "000002"}))["39"] == "00"  # another batch

    wrong = term.send(term.settlement(totals((2, 3000), (1, 500), (0, 0))))
    assert wrong["39"] == "95"
    assert rows(db, "SELECT COUNT(*) FROM batches")[0][0] == 0
    right = term.send(term.settlement(totals((2, 3000), (1, 500), (1, 1000))))
    assert right["39"] == "00"
    assert rows(db, "SELECT terminal_id, batch, totals FROM batches") == [
        (TID, "000001", totals((2, 3000), (1, 500), (1, 1000)))]
    # A sale of a settled batch can no longer be voided.
    b = rows(db, "SELECT rrn FROM txns WHERE kind = 'SALE' AND amount = 2000")[0][0]
    assert term.send(term.void(b, 2000))["39"] == "12"


def _upload(term: Term, sale: dict[str, str], answer: dict[str, str]) -> dict[str, str]:
    """The 0320 of an approved sale: its DE 3, 4, 11, 12, 13, 37, a masked DE 2, a new DE 7 and KSN."""
    doc = term.base("0320", sale["3"])
    upload = {k: doc[k] for k in ("t", "3", "7", "41", "42", "49", "60")}
    upload.update({k: sale[k] for k in ("4", "11", "12", "13")})
    upload.update({"2": sale["2"][:6] + "******" + sale["2"][-4:], "37": answer["37"]})
    return upload


def test_a_disputed_batch_is_uploaded_and_then_closed_and_the_upload_kept(term: Term, db: Path) -> None:
    sales = [term.sale(1000), term.sale(2000)]
    answers = [term.send(sale) for sale in sales]
    claimed = totals((2, 3500), (0, 0), (0, 0))  # the terminal's totals, which the ledger does not share
    assert term.send(term.settlement(claimed))["39"] == "95"
    for sale, answer in zip(sales, answers, strict=True):
        reply = term.send(_upload(term, sale, answer))
        assert (reply["39"], reply["37"]) == ("00", answer["37"])
    end = term.base("0320", "960000", **{"63": claimed})
    closed = term.send({k: end[k] for k in ("t", "3", "7", "11", "41", "42", "49", "60", "63")})
    assert closed["39"] == "00"
    with Ledger(db) as ledger:
        assert ledger.closed_batch(TID, "000001") == (closed["37"], False)
        kept = ledger.uploads(TID, "000001")
    assert [(u["stan"], u["amount"], u["pan"], u["rrn"]) for u in kept] == [
        (sale["11"], int(sale["4"]), "621234******1232", answer["37"]) for sale, answer in zip(sales, answers,
                                                                                                strict=True)]
    # closed once: a settlement or an upload's end sent again is answered 00 with the first RRN
    assert term.send(term.settlement(claimed))["37"] == closed["37"]
    again = term.base("0320", "960000", **{"63": claimed})
    assert term.send({k: again[k] for k in ("t", "3", "7", "11", "41", "42", "49", "60", "63")})["37"] == closed["37"]


def test_a_settlement_sent_again_after_a_power_cut_gets_its_first_answer(term: Term, db: Path) -> None:
    term.send(term.sale(1000))
    request = term.settlement(totals((1, 1000), (0, 0), (0, 0)))
    first = term.send(request)
    assert first["39"] == "00"
    repeat = term.send(request)  # the same request (STAN, DE 7), MACed again: the repeat rule
    assert {k: v for k, v in repeat.items() if k != "64"} == {k: v for k, v in first.items() if k != "64"}
    newer = term.send(term.settlement(totals((1, 1000), (0, 0), (0, 0))))  # a new one for the closed batch
    assert (newer["39"], newer["37"]) == ("00", first["37"])
    assert rows(db, "SELECT COUNT(*) FROM batches")[0][0] == 1


def test_settlement_with_malformed_totals_answers_30(term: Term) -> None:
    assert term.send(term.settlement("12345"))["39"] == "30"


def test_echo_test(term: Term) -> None:
    response = term.send(term.echo())
    assert response["39"] == "00"
    assert "64" not in response
    stranger = Term(term.address, tid="TERM9999")
    try:
        assert stranger.send(stranger.echo())["39"] == "03"
    finally:
        stranger.close()


# -- framing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\x00", id="length-0"),
        pytest.param(b"\x08\x01" + b"0" * 2049, id="length-2049"),
        pytest.param(b"\x00\x0c" + b"hello world!", id="not-a-message"),
        pytest.param(b"\x00\x14" + b"0200" + bytes.fromhex("1000000000000000") + b"00000012", id="truncated-field"),
    ],
)
def test_malformed_frame_closes_without_answer(term: Term, db: Path, data: bytes) -> None:
    term.send_raw(data)
    assert term.connect().recv(100) == b""
    assert rows(db, "SELECT COUNT(*) FROM exchanges")[0][0] == 0


def test_connection_serves_many_requests_and_server_survives_bad_peers(acquirer: RunningAcquirer) -> None:
    bad = Term(acquirer.address)
    bad.send_raw(b"\xff\xff")
    assert bad.connect().recv(10) == b""
    bad.close()
    good = Term(acquirer.address)
    try:
        for _ in range(3):
            assert good.send(good.echo())["39"] == "00"
    finally:
        good.close()


# -- fault injection ------------------------------------------------------------------


def test_fault_delay(acquirer: RunningAcquirer, term: Term) -> None:
    acquirer.faults.add(Fault(FaultKind.DELAY, seconds=0.6))
    started = time.monotonic()
    assert term.send(term.echo())["39"] == "00"
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    term.send(term.echo())
    assert time.monotonic() - started < 0.5  # count 1: the next message is on time


def test_fault_drop_loses_the_request(acquirer: RunningAcquirer, term: Term, db: Path) -> None:
    acquirer.faults.add("drop")
    raw, _ = term.pack(term.refund("612345678901", "1111", 1000))
    term.connect(timeout=0.5).sendall(len(raw).to_bytes(2, "big") + raw)
    with pytest.raises(socket.timeout):
        term.read_frame()
    assert count_kind(db, "REFUND") == 0
    term.close()
    assert term.send(term.echo())["39"] == "00"


def test_fault_close_loses_the_response(acquirer: RunningAcquirer, term: Term, db: Path) -> None:
    acquirer.faults.add("close")
    raw, _ = term.pack(term.refund("612345678901", "1111", 1000))
    term.send_raw(len(raw).to_bytes(2, "big") + raw)
    assert term.read_frame() is None
    assert count_kind(db, "REFUND") == 1  # applied: the terminal must reverse it


def test_fault_garbage(acquirer: RunningAcquirer, term: Term) -> None:
    acquirer.faults.add("garbage")
    raw, _ = term.pack(term.echo())
    term.send_raw(len(raw).to_bytes(2, "big") + raw)
    body = term.read_frame()
    assert body is not None
    with pytest.raises(pyiso8583.DecodeError):
        pyiso8583.decode(body, SPEC)


def test_fault_forced_code_applies_nothing(acquirer: RunningAcquirer, term: Term, db: Path) -> None:
    acquirer.faults.add(parse_fault("code:05,mti=0200,pc=200000"))
    assert term.send(term.refund("612345678901", "1111", 1000))["39"] == "05"
    assert term.send(term.refund("612345678901", "1111", 1000))["39"] == "05"  # every match
    assert term.send(term.sale(1000))["39"] == "00"                            # not a refund
    assert count_kind(db, "REFUND") == 0


def test_fault_wrong_mac(acquirer: RunningAcquirer, term: Term, db: Path) -> None:
    acquirer.faults.add("badmac")
    request = term.refund("612345678901", "1111", 1000)
    raw, key = term.pack(request)
    term.send_raw(len(raw).to_bytes(2, "big") + raw)
    body = term.read_frame()
    assert body is not None and key is not None
    assert pyiso8583.decode(body, SPEC)[0]["39"] == "00"
    assert not mac.verify_mac(key, body[:-8], body[-8:])
    assert count_kind(db, "REFUND") == 1


def test_fault_matching_mti_and_count(acquirer: RunningAcquirer, term: Term) -> None:
    acquirer.faults.add(Fault(FaultKind.CODE, code="96", mti="0400", count=2))
    sale = term.sale(1000)
    assert term.send(sale)["39"] == "00"
    assert term.send(term.reversal(sale))["39"] == "96"
    assert term.send(term.reversal(sale))["39"] == "96"
    assert term.send(term.reversal(sale))["39"] == "00"
    assert acquirer.faults.pending() == []


def test_faults_given_at_start(db: Path, seed_csv: Path) -> None:
    with start_in_thread(db, seed_csv, faults=["code:91,count=2"]) as running:
        t = Term(running.address)
        try:
            assert [t.send(t.echo())["39"] for _ in range(3)] == ["91", "91", "00"]
        finally:
            t.close()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("delay:5", Fault(FaultKind.DELAY, seconds=5.0)),
        ("drop,count=3", Fault(FaultKind.DROP, count=3)),
        ("close,mti=0400", Fault(FaultKind.CLOSE, mti="0400", count=None)),
        ("garbage,mti=0200,count=1", Fault(FaultKind.GARBAGE, mti="0200", count=1)),
        ("code:A0,pc=200000", Fault(FaultKind.CODE, code="A0", processing_code="200000", count=None)),
        ("badmac,count=all", Fault(FaultKind.BAD_MAC, count=None)),
    ],
)
def test_parse_fault(spec: str, expected: Fault) -> None:
    assert parse_fault(spec) == expected


@pytest.mark.parametrize("spec", ["explode", "delay", "delay:x", "code", "code:123", "drop:1", "drop,when=now",
                                  "drop,count=0", "drop,count=x"])
def test_parse_fault_errors(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_fault(spec)


# -- the ledger ---------------------------------------------------------------------


def test_ledger_survives_restart_and_reseeding(db: Path, seed_csv: Path) -> None:
    with start_in_thread(db, seed_csv, clock=lambda: NOW) as running:
        t = Term(running.address)
        request = t.refund("612345678901", "1111", 1000)
        first = t.send(request)
        t.close()
    with start_in_thread(db, seed_csv, clock=lambda: NOW) as running:
        t = Term(running.address)
        t.stan, t.counter = 1, 1
        again = t.send(request)
        assert again["37"] == first["37"] and again["38"] == first["38"]
        assert t.send(t.refund("612345678901", "1111", 500))["37"] != first["37"]
        t.close()
    assert count_kind(db, "REFUND") == 2
    assert count_kind(db, "SALE") == 4
    assert remaining(db, "612345678901") == 8500


def test_refundable_sales_query(db: Path, seed_csv: Path) -> None:
    with Ledger(db) as ledger:
        assert ledger.seed_csv(seed_csv) == 4
        assert ledger.seed_csv(seed_csv) == 0
        sales = ledger.refundable_sales(merchant_id=MID)
    assert [(s.rrn, s.date.isoformat(), s.amount_text, s.remaining_text) for s in sales] == [
        ("612345678903", "2024-09-01", "20.00", "20.00"),
        ("612345678901", "2024-11-11", "100.00", "100.00"),
        ("612345678902", "2024-11-12", "50.00", "50.00"),
    ]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("61234567890,2024-11-11,1.00,6212345678901232,2812,156,TERM0001,MERCHANT0000001", "rrn"),
        ("612345678909,11/11/2024,1.00,6212345678901232,2812,156,TERM0001,MERCHANT0000001", "date"),
        ("612345678909,2024-11-11,1.001,6212345678901232,2812,156,TERM0001,MERCHANT0000001", "amount"),
        ("612345678909,2024-11-11,1.00,6212345678901232,2813,156,TERM0001,MERCHANT0000001", "expiry"),
        ("612345678909,2024-11-11,1.00,,2812,156,TERM0001,MERCHANT0000001", "pan"),
        ("612345678909,2024-11-11,1.00,6212345678901232,2812,156,TERM0001,MERCHANT0000002", "merchant_id"),
        ("612345678901,2024-11-11,9.00,6212345678901232,2812,156,TERM0001,MERCHANT0000001", "rrn"),
    ],
)
def test_seed_errors_name_line_and_column(tmp_path: Path, seed_csv: Path, row: str, column: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(SEED + row + "\n")
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.add_terminal(TID, MID)
        with pytest.raises(SeedError) as err:
            ledger.seed_csv(bad)
        assert (err.value.line, err.value.column) == (6, column)
        assert ledger.transactions() == []  # all or nothing


def test_rrns_are_12_chars_and_unique(term: Term, db: Path) -> None:
    seen = {term.send(term.sale(100 + i))["37"] for i in range(5)}
    seen |= {term.send(term.refund("612345678901", "1111", 0))["37"] for _ in range(3)}
    assert len(seen) == 8 and all(len(r) == 12 for r in seen)
    all_rrns = [r for (r,) in rows(db, "SELECT rrn FROM txns")]
    assert len(all_rrns) == len(set(all_rrns))


# -- the command ---------------------------------------------------------------------


def test_cli_prints_address_and_refundable_sales(tmp_path: Path, seed_csv: Path) -> None:
    code = (
        "import argparse, sys; from micropos import acquirer_cli as c; p = argparse.ArgumentParser(); "
        "s = p.add_subparsers(dest='command'); c.add_parser(s); sys.exit(c.run(p.parse_args(sys.argv[1:])))"
    )
    command = [sys.executable, "-c", code, "acquirer", "--port", "0", "--db", str(tmp_path / "cli.sqlite3"),
               "--seed", str(seed_csv), "--fault", "code:05,mti=0200"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("micropos acquirer listening on 127.0.0.1:"), proc.stderr and proc.stderr.read()
            port = int(first.split()[4].rsplit(":", 1)[1])
            table = [proc.stdout.readline() for _ in range(5)]
            assert table[0].split()[:4] == ["RRN", "DATE", "AMOUNT", "REMAINING"]
            assert any(line.split()[:4] == ["612345678901", "2024-11-11", "100.00", "100.00"] for line in table)
            t = Term(("127.0.0.1", port))
            try:
                assert t.send(t.refund("612345678901", "1111", 100))["39"] == "05"
            finally:
                t.close()
        finally:
            proc.terminate()
            proc.wait(10)


def test_cli_rejects_a_bad_fault(tmp_path: Path) -> None:
    args = argparse.Namespace(host="127.0.0.1", port=0, db=str(tmp_path / "x.sqlite3"), seed=None,
                              refund_window_days=30, fault=["explode"])
    with pytest.raises(MicroposError, match="explode"):
        run_cli(args)


def test_a_ledger_from_before_the_kept_totals_gets_them_counted_once(term: Term, db: Path,
                                                                       acquirer: RunningAcquirer) -> None:
    assert term.send(term.refund("612345678901", "1111", 1000))["39"] == "00"
    reversed_refund = term.refund("612345678901", "1111", 2000)
    assert term.send(reversed_refund)["39"] == "00"
    assert term.send(term.reversal(reversed_refund))["39"] == "00"
    acquirer.stop()
    with sqlite3.connect(db) as conn:  # as an older micropos left it
        conn.execute("ALTER TABLE txns DROP COLUMN refunded")
        conn.execute("ALTER TABLE txns DROP COLUMN voided")
    with Ledger(db) as ledger:
        assert ledger.refunded(ledger.by_rrn("612345678901").id) == 1000
        assert ledger.mismatched_totals() == []
        ledger._db.execute("UPDATE txns SET refunded = 5 WHERE rrn = '612345678902'")  # the check can fail
        assert [m[0] for m in ledger.mismatched_totals()] == ["612345678902"]
        ledger._db.execute("UPDATE txns SET refunded = 0 WHERE rrn = '612345678902'")
