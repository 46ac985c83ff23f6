"""What the acquirer answers: every rule of the micropos-8583 profile with its response code.

The server hands :meth:`Acquirer.handle` a decoded request whose MAC has
already been verified, and gets back the response fields (without DE 64,
which the server adds). Rules are checked in this order and the first one
broken answers:

sale (0200, DE 3 000000)
    03 unknown terminal or merchant · 14 PAN fails the Luhn check ·
    54 card expired · 13 zero amount
refund (0200, DE 3 200000)
    03 unknown terminal or merchant · 25 original not found by RRN (DE 37)
    and date (DE 61) for this merchant · 14 card given and not the
    original's · 12 currency differs · 13 zero amount · 64 more than is left
    to refund · 12 original voided · 58 outside the refund window
void (0200, DE 3 020000)
    03 · 25 original not found for this terminal · 12 already voided, already
    refunded, or its batch settled · 14 card differs · 12 currency differs ·
    13 amount is not the original's
reversal (0400)
    03 · otherwise 00, after undoing whatever the reversed request applied
    (nothing when it never arrived or was declined)
settlement (0500, DE 3 920000)
    03 · 30 DE 63 malformed · a batch already closed: 00 with the RRN of the
    answer that closed it · 95 DE 63 differs from the ledger's totals for the
    terminal's batch (DE 60), which stays open · otherwise 00 and the batch closes
batch upload (0320, the uploaded transaction's DE 3)
    03 · 30 bad batch · otherwise 00, and the transaction is kept (``uploads``)
batch upload end (0320, DE 3 960000)
    03 · 30 · a batch already closed: 00 with its first RRN · otherwise 00 and
    the batch closes at the terminal's totals, marked unbalanced
refund answers carry DE 54 (currency + what is left to refund) whenever the
original was found; the echo's answer carries the acquirer's own UTC time in DE 7
echo test (0800)
    03 · otherwise 00

A missing mandatory field answers 30. A request repeated with the same
terminal ID, STAN (DE 11), DE 7 and MTI gets its first answer again and is
applied once; the same key with different content answers 94, as does a
financial request arriving after its own reversal (it is not applied: the
terminal has already given up on it).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from micropos.acquirer.ledger import Kind, Ledger, Totals, Txn, batch_key, same_request
from micropos.carddata import luhn_ok
from micropos.tables import message_kinds

DEMO_TERMINAL_ID = "TERM0001"
DEMO_MERCHANT_ID = "MERCHANT0000001"
DEFAULT_REFUND_WINDOW_DAYS = 30


def _required() -> dict[tuple[str, str], tuple[str, ...]]:
    """Mandatory request fields by (MTI, DE 3), from the message-kind table the terminal builds from.

    A reversal repeats the DE 3 of what it reverses, so it is required under
    each of theirs. DE 53 and DE 64 are left to the server, which checks the MAC first.
    """
    kinds = message_kinds()
    required: dict[tuple[str, str], tuple[str, ...]] = {}
    financial = [k.processing_code for k in kinds if k.mti == "0200" and k.processing_code]
    for kind in kinds:
        fields = tuple(str(de) for de in kind.mandatory if de not in (53, 64))
        for code in [kind.processing_code] if kind.processing_code else financial:
            required[(kind.mti, code)] = fields
    return required


def _code(name: str) -> str:
    code = next(k.processing_code for k in message_kinds() if k.name == name)
    assert code is not None
    return code


PC_SALE = _code("SALE")
PC_REFUND = _code("REFUND")
PC_VOID = _code("VOID")
PC_SETTLEMENT = _code("SETTLEMENT")
PC_ECHO = _code("ECHO")
PC_UPLOAD_END = _code("UPLOAD_END")

#: Fields a response copies from its request when the request has them.
ECHOED = ("3", "4", "7", "11", "12", "13", "41", "42", "49")

#: Mandatory request fields by (MTI, DE 3); DE 64 and DE 53 are the server's to check.
REQUIRED: dict[tuple[str, str], frozenset[str]] = {key: frozenset(fields) for key, fields in _required().items()}

#: Request MTIs whose messages carry a MAC (all but the echo test).
MACED_MTIS = frozenset(k.mti for k in message_kinds() if 64 in k.fields)


class Code:
    """DE 39 response codes the acquirer answers."""

    APPROVED = "00"
    INVALID_MERCHANT = "03"
    INVALID_TRANSACTION = "12"
    INVALID_AMOUNT = "13"
    INVALID_CARD = "14"
    NOT_FOUND = "25"
    FORMAT_ERROR = "30"
    EXPIRED_CARD = "54"
    NOT_PERMITTED = "58"
    EXCEEDS_ORIGINAL = "64"
    DUPLICATE = "94"
    RECONCILE_ERROR = "95"
    SYSTEM_ERROR = "96"
    MAC_ERROR = "A0"


def response_mti(mti: str) -> str:
    """0200 -> 0210: the response MTI of a request MTI (the function digit plus one)."""
    return mti[:2] + str((int(mti[2]) + 1) % 10) + mti[3:]


@dataclass(slots=True)
class _Outcome:
    code: str
    applied_id: int | None = None
    rrn: str | None = None
    approval_code: str | None = None
    left: str | None = None  # DE 54 of a refund's answer: currency n3 + what is left to refund n12


class Acquirer:
    """The bank's decisions over a :class:`Ledger`.

    Args:
        ledger: where sales, refunds, voids, reversals and batches live.
        refund_window_days: how many days after the sale a refund is allowed.
        clock: the acquirer's "now" (local time); tests pin it.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        refund_window_days: int = DEFAULT_REFUND_WINDOW_DAYS,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        if refund_window_days < 0:
            raise ValueError(f"refund window of {refund_window_days} days")
        self.ledger = ledger
        self.refund_window_days = refund_window_days
        self.clock = clock

    def today(self) -> date:
        return self.clock().date()

    # -- entry points ----------------------------------------------------------

    def handle(self, request: Mapping[str, str], request_fingerprint: str | None = None) -> dict[str, str]:
        """Applies a MAC-verified request and returns the response fields (no DE 64).

        ``request_fingerprint`` is the request's :func:`fingerprint` when
        made already (the server makes it before it takes its turn at the ledger).
        """
        mti, pc = request.get("t", ""), request.get("3", "")
        required = REQUIRED.get((mti, pc))
        if required is None or not request.keys() >= required:
            return self.reject(request, Code.FORMAT_ERROR)
        if mti == "0800":
            return self._echo(request)
        with self.ledger.atomic():
            # this request's first exchange, if any, and for a 0200 the reversal that may have come first
            seen = self.ledger.find_exchanges(request["41"], request["11"], request["7"],
                                              (mti, "0400") if mti == "0200" else (mti,))
            first = seen.get(mti)
            if first is not None:
                if same_request(first.fingerprint, request, request_fingerprint):
                    return dict(first.response)
                return self.reject(request, Code.DUPLICATE)
            if mti == "0200" and "0400" in seen:
                outcome = _Outcome(Code.DUPLICATE)
            elif mti == "0200":
                outcome = self._financial(request)
            elif mti == "0400":
                outcome = self._reversal(request)
            elif mti == "0320":
                outcome = self._upload(request)
            else:
                outcome = self._settlement(request)
            response = self._respond(request, outcome.code, rrn=outcome.rrn, approval_code=outcome.approval_code)
            if outcome.left is not None:
                response["54"] = outcome.left
            self.ledger.record_exchange(request, response, outcome.applied_id, request_fingerprint)
            return response

    def reject(self, request: Mapping[str, str], code: str) -> dict[str, str]:
        """A response with ``code`` that applies nothing and is not remembered.

        Used for answers decided before the rules run (A0 bad MAC, 30 format
        error, 94 conflicting repeat, forced codes from fault injection).
        """
        return self._respond(request, code)

    # -- transactions ----------------------------------------------------------

    def _financial(self, request: Mapping[str, str]) -> _Outcome:
        if not self.ledger.is_known(request["41"], request["42"]):
            return _Outcome(Code.INVALID_MERCHANT)
        pc = request["3"]
        if pc == PC_SALE:
            return self._sale(request)
        if pc == PC_REFUND:
            return self._refund(request)
        return self._void(request)

    def _sale(self, request: Mapping[str, str]) -> _Outcome:
        pan, expiry = request["2"], request["14"]
        if len(pan) < 12 or not pan.isdigit() or not luhn_ok(pan):
            return _Outcome(Code.INVALID_CARD)
        if not 1 <= int(expiry[2:]) <= 12:
            return _Outcome(Code.FORMAT_ERROR)
        today = self.today()
        if expiry < f"{today.year % 100:02d}{today.month:02d}":
            return _Outcome(Code.EXPIRED_CARD)
        amount = int(request["4"])
        if amount == 0:
            return _Outcome(Code.INVALID_AMOUNT)
        return self._approve(request, Kind.SALE, amount, pan=pan, expiry=expiry)

    def _refund(self, request: Mapping[str, str]) -> _Outcome:
        original = request["61"]
        if len(original) != 16 or not original.isdigit():
            return _Outcome(Code.FORMAT_ERROR)
        sale = self._original_sale(request)
        if sale is None or f"{sale.date.month:02d}{sale.date.day:02d}" != original[12:16]:
            return _Outcome(Code.NOT_FOUND)
        # The original is found: whatever the answer, it says what is left to refund (DE 54).
        left = sale.amount - sale.refunded

        def refused(code: str) -> _Outcome:
            return _Outcome(code, left=f"{sale.currency}{left:012d}")

        if "2" in request and request["2"] != sale.pan:
            return refused(Code.INVALID_CARD)
        if request["49"] != sale.currency:
            return refused(Code.INVALID_TRANSACTION)
        amount = int(request["4"])
        if amount == 0:
            return refused(Code.INVALID_AMOUNT)
        if amount > left:
            return refused(Code.EXCEEDS_ORIGINAL)
        if sale.voided:
            return refused(Code.INVALID_TRANSACTION)
        if (self.today() - sale.date).days > self.refund_window_days:
            return refused(Code.NOT_PERMITTED)
        approved = self._approve(
            request, Kind.REFUND, amount, pan=request.get("2"), expiry=request.get("14"),
            orig_id=sale.id, reason=request["62"],
        )
        return _Outcome(approved.code, approved.applied_id, approved.rrn, approved.approval_code,
                        left=f"{sale.currency}{left - amount:012d}")

    def _original_sale(self, request: Mapping[str, str]) -> Txn | None:
        """The live sale of this merchant that DE 37 names, or None (a refund or void answers 25)."""
        sale = self.ledger.by_rrn(request["37"])
        if sale is None or sale.kind is not Kind.SALE or sale.reversed or sale.merchant_id != request["42"]:
            return None
        return sale

    def _void(self, request: Mapping[str, str]) -> _Outcome:
        sale = self._original_sale(request)
        if sale is None or sale.terminal_id != request["41"]:
            return _Outcome(Code.NOT_FOUND)
        if sale.voided or sale.refunded or self.ledger.is_settled(sale):
            return _Outcome(Code.INVALID_TRANSACTION)
        if request["2"] != sale.pan:
            return _Outcome(Code.INVALID_CARD)
        if request["49"] != sale.currency:
            return _Outcome(Code.INVALID_TRANSACTION)
        if int(request["4"]) != sale.amount:
            return _Outcome(Code.INVALID_AMOUNT)
        return self._approve(request, Kind.VOID, sale.amount, pan=sale.pan, expiry=sale.expiry, orig_id=sale.id)

    def _approve(
        self,
        request: Mapping[str, str],
        kind: Kind,
        amount: int,
        *,
        pan: str | None,
        expiry: str | None,
        orig_id: int | None = None,
        reason: str | None = None,
    ) -> _Outcome:
        txn = self.ledger.insert(
            kind,
            rrn=self.ledger.next_rrn(self.today()),
            day=self.today(),
            amount=amount,
            currency=request["49"],
            terminal_id=request["41"],
            merchant_id=request["42"],
            pan=pan,
            expiry=expiry,
            stan=request["11"],
            batch=batch_key(request["60"]),
            orig_id=orig_id,
            reason=reason,
            approval_code=self.ledger.next_approval_code(),
        )
        return _Outcome(Code.APPROVED, applied_id=txn.id, rrn=txn.rrn, approval_code=txn.approval_code)

    def _reversal(self, request: Mapping[str, str]) -> _Outcome:
        if not self.ledger.is_known(request["41"], request["42"]):
            return _Outcome(Code.INVALID_MERCHANT)
        reversed_request = self.ledger.find_exchange(request["41"], request["11"], request["7"], "0200")
        if reversed_request is None:
            # Never arrived: nothing to undo, and the 0400 exchange now recorded
            # keeps the request from being applied should it arrive late.
            return _Outcome(Code.APPROVED)
        if reversed_request.applied_id is not None:
            self.ledger.mark_reversed(reversed_request.applied_id)
        return _Outcome(Code.APPROVED, rrn=reversed_request.rrn)

    def _settlement(self, request: Mapping[str, str]) -> _Outcome:
        """0500: totals equal to the ledger's close the batch; different ones answer 95 and leave it open."""
        claimed, closed = self._batch_request(request)
        if isinstance(claimed, _Outcome):
            return claimed
        if closed is not None:
            return closed
        ours = self.ledger.batch_totals(request["41"], request["42"], request["60"])
        if claimed != ours:
            return _Outcome(Code.RECONCILE_ERROR)
        return self._close(request, ours, balanced=True)

    def _upload(self, request: Mapping[str, str]) -> _Outcome:
        """0320: one transaction of a disputed batch, kept for inspection; the upload's end closes the batch."""
        if request["3"] != PC_UPLOAD_END:
            if not self.ledger.is_known(request["41"], request["42"]):
                return _Outcome(Code.INVALID_MERCHANT)
            if not request["60"].isdigit():
                return _Outcome(Code.FORMAT_ERROR)
            self.ledger.record_upload(request)
            return _Outcome(Code.APPROVED, rrn=request.get("37"))
        claimed, closed = self._batch_request(request)
        if isinstance(claimed, _Outcome):
            return claimed
        if closed is not None:
            return closed
        return self._close(request, claimed, balanced=False)

    def _batch_request(self, request: Mapping[str, str]) -> tuple[Totals | _Outcome, _Outcome | None]:
        """The totals a settlement or an upload's end claims (or the refusal), and the answer if the batch is closed.

        A batch already closed answers 00 with the RRN of the answer that
        closed it: a settlement sent again after a power cut, or a new one,
        changes nothing.
        """
        if not self.ledger.is_known(request["41"], request["42"]):
            return _Outcome(Code.INVALID_MERCHANT), None
        try:
            claimed = Totals.from_field(request["63"])
        except ValueError:
            return _Outcome(Code.FORMAT_ERROR), None
        if not request["60"].isdigit():
            return _Outcome(Code.FORMAT_ERROR), None
        closed = self.ledger.closed_batch(request["41"], request["60"])
        if closed is not None:
            return claimed, _Outcome(Code.APPROVED, rrn=closed[0])
        return claimed, None

    def _close(self, request: Mapping[str, str], totals: Totals, *, balanced: bool) -> _Outcome:
        rrn = self.ledger.next_rrn(self.today())
        self.ledger.settle(request["41"], request["42"], request["60"], totals, rrn=rrn, balanced=balanced)
        return _Outcome(Code.APPROVED, rrn=rrn)

    def _echo(self, request: Mapping[str, str]) -> dict[str, str]:
        known = self.ledger.is_known(request["41"], request["42"])
        response = {"t": response_mti(request["t"])}
        response.update({f: request[f] for f in ECHOED if f in request})
        # not an echo: the acquirer's own UTC time, from which a terminal with no clock sets its own
        response["7"] = datetime.now(UTC).strftime("%m%d%H%M%S")
        response["39"] = Code.APPROVED if known else Code.INVALID_MERCHANT
        return response

    # -- responses -------------------------------------------------------------

    def _respond(
        self,
        request: Mapping[str, str],
        code: str,
        *,
        rrn: str | None = None,
        approval_code: str | None = None,
    ) -> dict[str, str]:
        mti = request.get("t", "0000")
        response = {"t": response_mti(mti)}
        response.update({f: request[f] for f in ECHOED if f in request})
        response["37"] = rrn or self.ledger.next_rrn(self.today())
        if code == Code.APPROVED:
            response["38"] = approval_code or self.ledger.next_approval_code()
        response["39"] = code
        return response
