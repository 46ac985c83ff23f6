"""A load generator for the acquirer: refunds, MACed ahead of time, sent over many connections at once.

The requests are built and MACed before the clock starts, so the client
costs little while it runs: each connection sends one framed request, waits
for its answer and sends the next. Latency is measured per request.
"""
from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import uvloop

from micropos import iso8583, mac
from micropos.acquirer.ledger import SEED_COLUMNS
from micropos.acquirer.rules import DEMO_MERCHANT_ID, DEMO_TERMINAL_ID

PAN = "6212345678901232"
ORIGINAL_AMOUNT = "100.00"  # 10,000 refunds of 0.01 each before one is refused


def originals(count: int, day: date, first: int = 0) -> Iterator[dict[str, str]]:
    """Seed rows: ``count`` settled sales of 100.00 on ``day`` with RRNs 7xxxxxxxxxxx."""
    for i in range(first, first + count):
        yield dict(zip(SEED_COLUMNS, (f"7{i:011d}", day.isoformat(), ORIGINAL_AMOUNT, PAN, "2812", "156",
                                      DEMO_TERMINAL_ID, DEMO_MERCHANT_ID), strict=True))


def refunds(count: int, originals_count: int, day: date, *, first_counter: int = 1, maced: bool = True,
            bdk: bytes = mac.DEMO_BDK, initial_key_id: bytes = bytes.fromhex("1234567890123456")) -> list[bytes]:
    """``count`` framed refund requests of 0.01 each, spread over the originals, each with its own KSN and STAN.

    ``maced=False`` leaves out DE 53 and DE 64: the same refunds for a peer
    that knows no DUKPT (and reads DE 53 as the 1987 standard's fixed n16).
    """
    ik = mac.initial_key(bdk, initial_key_id)
    out = []
    counter = first_counter
    for n in range(count):
        while bin(counter).count("1") > 16:  # X9.24-3: a counter has at most 16 one-bits
            counter += 1
        if n >= 999_999:
            raise ValueError("at most 999,999 requests: each needs a STAN of its own")
        fields = {
            "t": "0200", "3": "200000", "4": "000000000001", "7": f"{date.today():%m%d}120000",
            "11": f"{n + 1:06d}", "12": "120000",
            "13": f"{date.today():%m%d}", "22": "010", "25": "00", "37": f"7{n % originals_count:011d}",
            "41": DEMO_TERMINAL_ID, "42": DEMO_MERCHANT_ID, "49": "156",
            "53": mac.make_ksn(initial_key_id, counter).hex().upper(), "60": "000001",
            "61": f"000000000000{day:%m%d}", "62": "01",
        }
        if maced:
            key = mac.working_key_from_initial(ik, initial_key_id, counter, mac.KeyUsage.MAC_BOTH_WAYS)
            out.append(iso8583.frame(iso8583.apply_mac(fields, key)))
        else:
            del fields["53"]
            out.append(iso8583.frame(iso8583.encode(fields)))
        counter += 1
    return out


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    codes: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


class _Client(asyncio.Protocol):
    """One connection: sends a request, waits for its whole answer, sends the next; a protocol, not a
    coroutine, so that a busy client costs a few microseconds a request and the server gets the machine."""

    def __init__(self, queue: list[bytes], latencies: list[float], answers: list[bytes]) -> None:
        self._queue, self._latencies, self._answers = queue, latencies, answers
        self._buffer = bytearray()
        self._started = 0.0
        self._transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream transport (uvloop's is not a subclass)
        self._send()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if len(buffer) < 2 or len(buffer) < 2 + int.from_bytes(buffer[:2], "big"):
            return
        self._latencies.append((time.perf_counter() - self._started) * 1000)
        self._answers.append(bytes(buffer[2:]))
        buffer.clear()
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("the server closed the connection"))

    def _send(self) -> None:
        assert self._transport is not None
        if not self._queue:
            self._transport.close()
            self.done.set_result(None)
            return
        self._started = time.perf_counter()
        self._transport.write(self._queue.pop())


async def _client(host: str, port: int, queue: list[bytes], latencies: list[float], answers: list[bytes]) -> None:
    _, client = await asyncio.get_running_loop().create_connection(
        lambda: _Client(queue, latencies, answers), host, port)
    await client.done


async def run(host: str, port: int, requests: list[bytes], concurrency: int) -> Result:
    """Sends every request, ``concurrency`` connections at a time.

    The answers are read whole but decoded only after the clock stops (their
    DE 39 counted), so the client spends little of the machine's time.
    """
    queue = list(reversed(requests))
    latencies: list[float] = []
    answers: list[bytes] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(host, port, queue, latencies, answers) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    codes: dict[str, int] = {}
    for answer in answers:
        code = iso8583.decode(answer).get("39", "--")
        codes[code] = codes.get(code, 0) + 1
    return Result(len(latencies), seconds, latencies, codes)


def measure(host: str, port: int, requests: list[bytes], concurrency: int) -> Result:
    """:func:`run` on uvloop's event loop, which leaves more of the machine to the server measured.

    The collector is off meanwhile, as ``timeit`` has it: a full collection
    of the client's own objects would stop every connection at once for
    milliseconds, and count as the server's latency.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return uvloop.run(run(host, port, requests, concurrency))
    finally:
        if collecting:
            gc.enable()


def yesterday() -> date:
    return date.today() - timedelta(days=1)
