"""The acquirer's ledger: what the bank remembers, in one SQLite file.

Tables:
    terminals  which terminal belongs to which merchant (unknown pairs answer 03)
    txns       sales, refunds and voids; a reversal sets ``reversed_at`` on the
               row its request created instead of deleting it
    exchanges  every answered request by (terminal ID, STAN, DE 7, MTI): the
               first answer, replayed for a repeat, and what it applied, so a
               reversal can undo exactly that
    batches    settled batches with the totals they were settled at
    counters   sequences behind RRNs and approval codes

A sale carries what has been refunded on it and how many voids it has
(``refunded``, ``voided``), kept in step with its REFUND and VOID rows in
the same transaction that inserts one or flags it reversed: what is left
to refund is then one row away, however many refunds a sale has had
(summing them made a refund slower with each one before it).
``mismatched_totals`` recomputes them from the rows; the tests hold the
two equal after every kind of change.

Everything survives restarts: open the same file again.
"""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

from micropos import tables
from micropos.errors import MicroposError

SEED_COLUMNS = ("rrn", "date", "amount", "pan", "expiry", "currency", "terminal_id", "merchant_id")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS terminals (
    terminal_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS txns (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('SALE', 'REFUND', 'VOID')),
    rrn           TEXT NOT NULL UNIQUE,
    date          TEXT NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount >= 0),
    currency      TEXT NOT NULL,
    pan           TEXT,
    expiry        TEXT,
    terminal_id   TEXT NOT NULL,
    merchant_id   TEXT NOT NULL,
    stan          TEXT,
    batch         TEXT,
    orig_id       INTEGER REFERENCES txns(id),
    reason        TEXT,
    approval_code TEXT,
    source        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    reversed_at   TEXT,
    refunded      INTEGER NOT NULL DEFAULT 0,
    voided        INTEGER NOT NULL DEFAULT 0
);
DROP INDEX IF EXISTS txns_orig;
DROP INDEX IF EXISTS txns_orig_state;
CREATE INDEX IF NOT EXISTS txns_batch ON txns (terminal_id, batch);
CREATE TABLE IF NOT EXISTS exchanges (
    terminal_id TEXT NOT NULL,
    stan        TEXT NOT NULL,
    transmitted TEXT NOT NULL,
    mti         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response    TEXT NOT NULL,
    rrn         TEXT,
    applied_id  INTEGER REFERENCES txns(id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (terminal_id, stan, transmitted, mti)
);
CREATE INDEX IF NOT EXISTS exchanges_rrn ON exchanges (rrn);
CREATE TABLE IF NOT EXISTS batches (
    terminal_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    batch       TEXT NOT NULL,
    totals      TEXT NOT NULL,
    settled_at  TEXT NOT NULL,
    PRIMARY KEY (terminal_id, batch)
);
CREATE TABLE IF NOT EXISTS uploads (
    terminal_id     TEXT NOT NULL,
    merchant_id     TEXT NOT NULL,
    batch           TEXT NOT NULL,
    stan            TEXT NOT NULL,
    processing_code TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    rrn             TEXT,
    orig_data       TEXT,
    pan             TEXT,
    transmitted     TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (terminal_id, batch, stan)
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class Kind(StrEnum):
    SALE = "SALE"
    REFUND = "REFUND"
    VOID = "VOID"


class LedgerError(MicroposError, RuntimeError):
    """The ledger file cannot be used (not a ledger, or inconsistent)."""


class SeedError(MicroposError, ValueError):
    """A seed CSV row that cannot become a settled sale.

    Attributes:
        source: the file (or ``"<rows>"``) the row came from.
        line: the row's line number in that file, header = 1.
        column: the column at fault, or None for the whole row.
    """

    def __init__(self, source: str, line: int, column: str | None, message: str) -> None:
        where = f"{source}:{line}" + (f" ({column})" if column else "")
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.column = column


@dataclass(slots=True)
class Txn:
    """One ledger row: a sale, a refund or a void. Amounts are in minor units."""

    id: int
    kind: Kind
    rrn: str
    date: date
    amount: int
    currency: str
    pan: str | None
    expiry: str | None
    terminal_id: str
    merchant_id: str
    stan: str | None
    batch: str | None
    orig_id: int | None
    reason: str | None
    approval_code: str | None
    source: str
    reversed: bool
    refunded: int = 0  # a sale's: minor units refunded on it (unreversed refunds)
    voided: bool = False  # a sale's: an unreversed void points at it


@dataclass(frozen=True)
class RefundableSale:
    """A sale that can still be refunded, for the startup table and the demo."""

    rrn: str
    date: date
    amount: int
    remaining: int
    currency: str
    merchant_id: str

    @property
    def amount_text(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def remaining_text(self) -> str:
        return format_amount(self.remaining, self.currency)


@dataclass(frozen=True)
class Totals:
    """Settlement totals as DE 63 carries them; amounts in minor units."""

    sale_count: int = 0
    sale_amount: int = 0
    refund_count: int = 0
    refund_amount: int = 0
    void_count: int = 0
    void_amount: int = 0

    def to_field(self) -> str:
        """The 45-character DE 63 text."""
        return (
            f"{self.sale_count:03d}{self.sale_amount:012d}"
            f"{self.refund_count:03d}{self.refund_amount:012d}"
            f"{self.void_count:03d}{self.void_amount:012d}"
        )

    @classmethod
    def from_field(cls, text: str) -> Totals:
        """Parses DE 63; ValueError unless it is exactly 45 digits."""
        if len(text) != 45 or not (text.isascii() and text.isdigit()):
            raise ValueError(f"settlement totals {text!r} are not 45 digits")
        parts = [int(text[a:b]) for a, b in ((0, 3), (3, 15), (15, 18), (18, 30), (30, 33), (33, 45))]
        return cls(*parts)


@dataclass(frozen=True)
class Exchange:
    """An answered request, remembered under (terminal ID, STAN, DE 7, MTI)."""

    fingerprint: str
    response: dict[str, str]
    rrn: str | None
    applied_id: int | None


def exponent(currency: str) -> int:
    """Decimal places of a currency's minor unit (ISO 4217, the project's one table), 2 when not known."""
    return tables.exponent(currency) if currency.isdigit() else 2


def format_amount(minor: int, currency: str) -> str:
    """Minor units as a decimal string: ``1234`` in 156 is ``"12.34"``."""
    places = exponent(currency)
    if places == 0:
        return str(minor)
    whole, frac = divmod(minor, 10**places)
    return f"{whole}.{frac:0{places}d}"


def parse_amount(text: str, currency: str) -> int:
    """A decimal string as minor units; ValueError if negative or too precise for the currency."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"amount {text!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"amount {text!r} is not a non-negative number")
    minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"amount {text!r} has more than {exponent(currency)} decimals for currency {currency}")
    return int(minor)


_NOT_CONTENT = frozenset(("p", "53", "64"))
FINGERPRINT_V2 = "2:"  # how a fingerprint of this version begins; older ones are bare hex


def fingerprint(fields: Mapping[str, str]) -> str:
    """What makes two requests the same request: every field but the bitmap, KSN and MAC.

    A terminal that repeats a request may do so under a fresh KSN, so DE 53
    and DE 64 must not make a repeat look different. Field numbers and
    values joined by separators no field may hold (the profile's fields are
    printable ASCII or hex), in field order, then hashed.
    """
    content = "\x1e".join(f"{k}\x1f{v}" for k, v in sorted(fields.items()) if k not in _NOT_CONTENT)
    return FINGERPRINT_V2 + hashlib.sha256(content.encode()).hexdigest()


def same_request(stored: str, fields: Mapping[str, str], made: str | None = None) -> bool:
    """Whether ``fields`` (fingerprint ``made`` if known) are the request whose fingerprint was stored.

    A fingerprint stored by an older micropos is recognised too.
    """
    if stored.startswith(FINGERPRINT_V2):
        return stored == (made or fingerprint(fields))
    content = {k: v for k, v in fields.items() if k not in _NOT_CONTENT}  # the first version: sorted JSON
    return stored == hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class Ledger:
    """The SQLite ledger. One instance per thread: sqlite3 connections are not shared.

    Args:
        path: the database file (created when missing), or ``":memory:"``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # one connection, used by one thread at a time: the server's event loop, and a worker
            # thread for the commit's fsync while the loop goes on (micropos.acquirer.commit)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._depth = 0
        self._known: set[tuple[str, str]] = set()  # (terminal, merchant) pairs found registered
        self._counters: dict[str, int] = {}  # counter values taken in the open transaction (``_next``)
        self._rrn_day: tuple[date | None, str] = (None, "")  # a day and the RRN prefix it makes
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA busy_timeout = 10000")  # another process's commit is brief: wait for it
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)
            self._add_columns("batches", {"rrn": "TEXT", "balanced": "INTEGER NOT NULL DEFAULT 1"})
            if self._add_columns("txns", {"refunded": "INTEGER NOT NULL DEFAULT 0",
                                          "voided": "INTEGER NOT NULL DEFAULT 0"}):
                self._db.execute(_RECOUNT)  # a ledger from before the totals: count them once
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise LedgerError(f"{self.path} is not a micropos ledger: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def atomic(self) -> _Atomic:
        """Everything inside commits together or not at all.

        Directly inside a transaction opened by ``begin`` (a batch of
        requests under one commit), it is a savepoint: undone alone when it
        raises, committed with the batch otherwise. Deeper, it joins the
        one around it.
        """
        return _Atomic(self)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def unguarded(self) -> Iterator[None]:
        """Inside a batch opened by ``begin``: ``atomic`` opens no savepoint (see ``GroupCommit``)."""
        depth = self._depth
        self._depth = 2
        try:
            yield
        finally:
            self._depth = depth

    def begin(self) -> None:
        """Opens a transaction that ``commit`` ends (for a batch; ``atomic`` otherwise)."""
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1

    def commit(self) -> None:
        """Commits, and with ``synchronous = FULL`` the write-ahead log is on disk when it returns.

        Should the commit fail, the transaction is rolled back: nothing of it stands.
        """
        try:
            if self._counters:
                self._db.executemany(
                    "INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    self._counters.items())
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
            self._counters.clear()

    def rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        finally:
            self._depth = 0
            self._counters.clear()

    def checkpoint_apart(self) -> None:
        """Stops this connection's commits from checkpointing: a :class:`Checkpointer` does it.

        In WAL mode the commit that takes the log past 1,000 pages copies
        them into the database file and syncs it before returning, which
        stops a busy server (and, with several workers, the ledger) for
        several milliseconds. A checkpoint from a connection of its own
        copies them while the commits go on. Every connection that writes
        must be told: one left alone checkpoints inside its commits.
        """
        self._db.execute("PRAGMA wal_autocheckpoint = 0")

    # -- terminals -------------------------------------------------------------

    def add_terminal(self, terminal_id: str, merchant_id: str) -> None:
        """Registers a terminal of a merchant; a terminal belongs to one merchant only.

        Raises:
            LedgerError: the terminal is already registered to another merchant.
        """
        row = self._db.execute("SELECT merchant_id FROM terminals WHERE terminal_id = ?", (terminal_id,)).fetchone()
        if row is None:
            self._db.execute("INSERT INTO terminals VALUES (?, ?)", (terminal_id, merchant_id))
        elif row["merchant_id"] != merchant_id:
            raise LedgerError(f"terminal {terminal_id} belongs to merchant {row['merchant_id']}, not {merchant_id}")

    def is_known(self, terminal_id: str, merchant_id: str) -> bool:
        """Whether this terminal is registered, and to this merchant.

        A yes is remembered: a terminal is never unregistered nor moved to
        another merchant (``add_terminal``), so it stays true.  A no is asked
        again: another connection may register the terminal meanwhile.
        """
        if (terminal_id, merchant_id) in self._known:
            return True
        row = self._db.execute(
            "SELECT 1 FROM terminals WHERE terminal_id = ? AND merchant_id = ?", (terminal_id, merchant_id)
        ).fetchone()
        if row is not None:
            self._known.add((terminal_id, merchant_id))
        return row is not None

    # -- seeding ---------------------------------------------------------------

    def seed_csv(self, path: str | Path) -> int:
        """Loads settled sales from a seed CSV; returns how many rows were new.

        Loading the same file again adds nothing, so a server may seed on
        every start.

        Raises:
            SeedError: a bad header or row; nothing from the file is kept.
            LedgerError: the file cannot be read.
        """
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                return self.seed_rows(csv.DictReader(handle), source=str(path))
        except OSError as exc:
            raise LedgerError(f"cannot read the seed CSV {path}: {exc.strerror or exc}") from exc

    def seed_rows(self, rows: Iterable[Mapping[str, str]], source: str = "<rows>") -> int:
        """Loads settled sales from mappings with the seed CSV's columns."""
        added = 0
        now = _now()
        with self.atomic():
            for line, row in enumerate(rows, start=2):
                missing = [c for c in SEED_COLUMNS if not (row.get(c) or "").strip()]
                if missing:
                    raise SeedError(source, line, missing[0], "missing value")
                values = {c: (row[c] or "").strip() for c in SEED_COLUMNS}
                sale = _parse_seed_row(values, source, line)
                try:
                    self.add_terminal(str(sale["terminal_id"]), str(sale["merchant_id"]))
                except LedgerError as exc:
                    raise SeedError(source, line, "merchant_id", str(exc)) from None
                existing = self._db.execute("SELECT * FROM txns WHERE rrn = ?", (sale["rrn"],)).fetchone()
                if existing is not None:
                    if not all(str(existing[k]) == str(v) for k, v in sale.items()):
                        raise SeedError(source, line, "rrn",
                                        f"RRN {sale['rrn']} is already in the ledger with other data")
                    continue
                self._db.execute(
                    "INSERT INTO txns (kind, rrn, date, amount, currency, pan, expiry, terminal_id, merchant_id,"
                    " source, created_at) VALUES ('SALE', :rrn, :date, :amount, :currency, :pan, :expiry,"
                    " :terminal_id, :merchant_id, 'seed', :now)",
                    {**sale, "now": now},
                )
                added += 1
        return added

    # -- transactions ----------------------------------------------------------

    def insert(
        self,
        kind: Kind,
        *,
        rrn: str,
        day: date,
        amount: int,
        currency: str,
        terminal_id: str,
        merchant_id: str,
        pan: str | None = None,
        expiry: str | None = None,
        stan: str | None = None,
        batch: str | None = None,
        orig_id: int | None = None,
        reason: str | None = None,
        approval_code: str | None = None,
    ) -> Txn:
        """Records an approved online sale, refund or void."""
        cur = self._db.execute(
            "INSERT INTO txns (kind, rrn, date, amount, currency, pan, expiry, terminal_id, merchant_id, stan,"
            " batch, orig_id, reason, approval_code, source, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'online', ?)",
            (kind.value, rrn, day.isoformat(), amount, currency, pan, expiry, terminal_id, merchant_id, stan,
             batch, orig_id, reason, approval_code, _now()),
        )
        if orig_id is not None:
            self._db.execute(_ADD_TO_SALE[kind], (amount if kind is Kind.REFUND else 1, orig_id))
        # the row as written: no second query to read it back
        return Txn(id=int(cur.lastrowid or 0), kind=kind, rrn=rrn, date=day, amount=amount, currency=currency,
                   pan=pan, expiry=expiry, terminal_id=terminal_id, merchant_id=merchant_id, stan=stan, batch=batch,
                   orig_id=orig_id, reason=reason, approval_code=approval_code, source="online", reversed=False)

    def get(self, txn_id: int) -> Txn | None:
        row = self._db.execute("SELECT * FROM txns WHERE id = ?", (txn_id,)).fetchone()
        return _txn(row) if row else None

    def by_rrn(self, rrn: str) -> Txn | None:
        row = self._db.execute("SELECT * FROM txns WHERE rrn = ?", (rrn,)).fetchone()
        return _txn(row) if row else None

    def transactions(self) -> list[Txn]:
        """Every row, oldest first (reversed ones included, flagged)."""
        return [_txn(r) for r in self._db.execute("SELECT * FROM txns ORDER BY id")]

    def mark_reversed(self, txn_id: int) -> bool:
        """Undoes a row (and what a refund or a void added to its sale); False when it was already undone."""
        row = self._db.execute(
            "UPDATE txns SET reversed_at = ? WHERE id = ? AND reversed_at IS NULL RETURNING kind, amount, orig_id",
            (_now(), txn_id)).fetchone()
        if row is None:
            return False
        kind, amount, orig_id = _KINDS[row[0]], row[1], row[2]
        if orig_id is not None:
            self._db.execute(_ADD_TO_SALE[kind], (-amount if kind is Kind.REFUND else -1, orig_id))
        return True

    def refunded(self, sale_id: int) -> int:
        """Minor units refunded so far on a sale (unreversed refunds only)."""
        row = self._db.execute("SELECT refunded FROM txns WHERE id = ?", (sale_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def mismatched_totals(self) -> list[tuple[str, int, int, int, int]]:
        """Sales whose kept totals differ from their rows: (RRN, refunded, by the rows, voided, by the rows)."""
        return [tuple(row) for row in self._db.execute(
            "SELECT rrn, refunded, counted_refunded, voided, counted_voided FROM (SELECT rrn, refunded, voided,"
            f" {_COUNTED_REFUNDED} AS counted_refunded, {_COUNTED_VOIDED} AS counted_voided"
            " FROM txns WHERE kind = 'SALE') WHERE refunded != counted_refunded OR voided != counted_voided")]

    def refundable_sales(self, merchant_id: str | None = None) -> list[RefundableSale]:
        """Sales with something left to refund: not reversed, not voided, oldest first."""
        rows = self._db.execute(
            "SELECT *, amount - refunded AS remaining FROM txns WHERE kind = 'SALE' AND reversed_at IS NULL"
            " AND voided = 0 AND (? IS NULL OR merchant_id = ?) ORDER BY date, id",
            (merchant_id, merchant_id),
        )
        return [
            RefundableSale(
                rrn=r["rrn"], date=date.fromisoformat(r["date"]), amount=r["amount"], remaining=r["remaining"],
                currency=r["currency"], merchant_id=r["merchant_id"],
            )
            for r in rows
            if r["remaining"] > 0
        ]

    # -- sequences -------------------------------------------------------------

    def next_rrn(self, today: date) -> str:
        """A fresh 12-digit RRN: year digit, day of year, 8-digit sequence; never one already used."""
        if self._rrn_day[0] != today:
            self._rrn_day = (today, f"{today.year % 10}{today.timetuple().tm_yday:03d}")
        while True:
            seq = self._next("rrn") % 100_000_000
            rrn = f"{self._rrn_day[1]}{seq:08d}"
            used = self._db.execute(
                "SELECT 1 FROM txns WHERE rrn = ? UNION ALL SELECT 1 FROM exchanges WHERE rrn = ?", (rrn, rrn)
            ).fetchone()
            if used is None:
                return rrn

    def next_approval_code(self) -> str:
        return f"{self._next('approval') % 1_000_000:06d}"

    def _next(self, name: str) -> int:
        """The counter's next value: read once a transaction, counted in memory, written back at its commit.

        The transaction holds the write lock, so no other connection can
        hand out the same value meanwhile; a savepoint undone keeps the
        values it took (a gap in the sequence, never a value used twice).
        """
        if self._depth == 0:
            with self.atomic():
                return self._next(name)
        value = self._counters.get(name)
        if value is None:
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            value = 0 if row is None else int(row[0])
        self._counters[name] = value = value + 1
        return value

    # -- exchanges -------------------------------------------------------------

    def find_exchanges(self, terminal_id: str, stan: str, transmitted: str,
                       mtis: tuple[str, ...]) -> dict[str, Exchange]:
        """The first exchanges of each of ``mtis`` for one (terminal, STAN, DE 7), by MTI: one query."""
        rows = self._db.execute(_FIND_EXCHANGES[len(mtis)], (terminal_id, stan, transmitted, *mtis)).fetchall()
        return {row["mti"]: Exchange(row["fingerprint"], json.loads(row["response"]), row["rrn"], row["applied_id"])
                for row in rows}

    def find_exchange(self, terminal_id: str, stan: str, transmitted: str, mti: str) -> Exchange | None:
        row = self._db.execute(
            "SELECT * FROM exchanges WHERE terminal_id = ? AND stan = ? AND transmitted = ? AND mti = ?",
            (terminal_id, stan, transmitted, mti),
        ).fetchone()
        if row is None:
            return None
        return Exchange(row["fingerprint"], json.loads(row["response"]), row["rrn"], row["applied_id"])

    def record_exchange(self, request: Mapping[str, str], response: Mapping[str, str], applied_id: int | None,
                        request_fingerprint: str | None = None) -> None:
        """Remembers the first answer to a request and what it applied (``request_fingerprint`` if made already)."""
        self._db.execute(
            "INSERT INTO exchanges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (request["41"], request["11"], request["7"], request["t"], request_fingerprint or fingerprint(request),
             _JSON.encode(response), response.get("37"), applied_id, _now()),
        )

    # -- batches ---------------------------------------------------------------

    def batch_totals(self, terminal_id: str, merchant_id: str, batch: str) -> Totals:
        """The ledger's totals for one batch of one terminal.

        Each unreversed row counts once under its own kind: a sale that was
        later voided counts as a sale and its void as a void.
        """
        counts: dict[str, tuple[int, int]] = {}
        for row in self._db.execute(
            "SELECT kind, COUNT(*), COALESCE(SUM(amount), 0) FROM txns WHERE terminal_id = ? AND merchant_id = ?"
            " AND batch = ? AND reversed_at IS NULL GROUP BY kind",
            (terminal_id, merchant_id, batch_key(batch)),
        ):
            counts[row[0]] = (int(row[1]), int(row[2]))
        sale, refund, void = (counts.get(k, (0, 0)) for k in ("SALE", "REFUND", "VOID"))
        return Totals(*sale, *refund, *void)

    def settle(self, terminal_id: str, merchant_id: str, batch: str, totals: Totals, *, rrn: str | None = None,
               balanced: bool = True) -> None:
        """Closes a batch at these totals; the first close stands (a batch closes once).

        ``rrn`` is that of the answer that closed it, given again to a
        settlement repeated after the batch closed; ``balanced`` is False when
        the batch was closed by an upload after its totals were disputed.
        """
        self._db.execute(
            "INSERT INTO batches (terminal_id, merchant_id, batch, totals, settled_at, rrn, balanced)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (terminal_id, batch) DO NOTHING",
            (terminal_id, merchant_id, batch_key(batch), totals.to_field(), _now(), rrn, int(balanced)),
        )

    def closed_batch(self, terminal_id: str, batch: str) -> tuple[str | None, bool] | None:
        """(the RRN that closed it, whether it balanced) of a closed batch, or None while it is open."""
        row = self._db.execute("SELECT rrn, balanced FROM batches WHERE terminal_id = ? AND batch = ?",
                               (terminal_id, batch_key(batch))).fetchone()
        return None if row is None else (row[0], bool(row[1]))

    def record_upload(self, request: Mapping[str, str]) -> None:
        """Keeps one transaction of a batch upload (0320) for inspection; sent again, it replaces itself."""
        self._db.execute(
            "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (request["41"], request["42"], batch_key(request["60"]), request["11"], request["3"], int(request["4"]),
             request.get("37"), request.get("61"), request.get("2"), request["7"], _now()),
        )

    def uploads(self, terminal_id: str, batch: str) -> list[dict[str, object]]:
        """The transactions a terminal uploaded for one batch, by STAN."""
        cursor = self._db.execute("SELECT * FROM uploads WHERE terminal_id = ? AND batch = ? ORDER BY stan",
                                  (terminal_id, batch_key(batch)))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _add_columns(self, table: str, columns: dict[str, str]) -> list[str]:
        """Adds the columns a ledger made by an older micropos lacks; those it added."""
        have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        added = [name for name in columns if name not in have]
        for name in added:
            self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {columns[name]}")
        return added

    def is_settled(self, txn: Txn) -> bool:
        """Whether a row is in a settled batch; seeded sales are settled by definition."""
        if txn.batch is None:
            return True
        row = self._db.execute(
            "SELECT 1 FROM batches WHERE terminal_id = ? AND batch = ?", (txn.terminal_id, txn.batch)
        ).fetchone()
        return row is not None


class Checkpointer:
    """Copies the ledger's write-ahead log into the database file, from a connection (and thread) of its own."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._version = -1

    def changed(self) -> bool:
        """Whether any connection committed since the last call (cheap: shared memory, no disk)."""
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        changed, self._version = version != self._version, version
        return changed

    def run(self) -> None:
        """A passive checkpoint: as much of the log as no reader needs, never waiting for a writer."""
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def close(self) -> None:
        self._db.close()


class _Atomic:
    """What :meth:`Ledger.atomic` returns (a class, not a generator: the acquirer enters one a request)."""

    __slots__ = ("_ledger", "_depth")

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._depth = 0

    def __enter__(self) -> None:
        ledger = self._ledger
        self._depth = depth = ledger._depth
        if depth > 1:
            ledger._depth += 1
        elif depth == 1:
            ledger._db.execute("SAVEPOINT request")
            ledger._depth = 2
        else:
            ledger.begin()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        ledger = self._ledger
        if self._depth > 1:
            ledger._depth -= 1
        elif self._depth == 1:
            try:
                if kind is not None:
                    ledger._db.execute("ROLLBACK TO request")
            finally:
                ledger._depth = 1
                ledger._db.execute("RELEASE request")
        elif kind is not None:
            ledger.rollback()
        else:
            ledger.commit()


_FIND_EXCHANGES = {
    count: "SELECT * FROM exchanges WHERE terminal_id = ? AND stan = ? AND transmitted = ? AND mti IN"
           f" ({', '.join('?' * count)})"
    for count in (1, 2)}
_JSON = json.JSONEncoder(separators=(",", ":"))  # a stored answer, read back for a repeat


def batch_key(batch: str) -> str:
    """The canonical form of a DE 60 batch number, as stored: "1" and "000001" are one batch."""
    return f"{int(batch):06d}" if batch.isdigit() else batch


def _parse_seed_row(values: dict[str, str], source: str, line: int) -> dict[str, object]:
    rrn = values["rrn"]
    if len(rrn) != 12 or not rrn.isascii() or not rrn.isalnum():
        raise SeedError(source, line, "rrn", f"{rrn!r} is not 12 letters or digits")
    try:
        day = date.fromisoformat(values["date"])
    except ValueError:
        raise SeedError(source, line, "date", f"{values['date']!r} is not YYYY-MM-DD") from None
    currency = values["currency"]
    if len(currency) != 3 or not currency.isdigit():
        raise SeedError(source, line, "currency", f"{currency!r} is not an ISO 4217 numeric code")
    try:
        amount = parse_amount(values["amount"], currency)
    except ValueError as exc:
        raise SeedError(source, line, "amount", str(exc)) from None
    pan = values["pan"]
    if not (12 <= len(pan) <= 19 and pan.isdigit()):
        raise SeedError(source, line, "pan", "not 12 to 19 digits")
    expiry = values["expiry"]
    if len(expiry) != 4 or not expiry.isdigit() or not 1 <= int(expiry[2:]) <= 12:
        raise SeedError(source, line, "expiry", f"{expiry!r} is not YYMM")
    terminal_id, merchant_id = values["terminal_id"], values["merchant_id"]
    if len(terminal_id) != 8:
        raise SeedError(source, line, "terminal_id", f"{terminal_id!r} is not 8 characters")
    if len(merchant_id) != 15:
        raise SeedError(source, line, "merchant_id", f"{merchant_id!r} is not 15 characters")
    return {
        "rrn": rrn, "date": day.isoformat(), "amount": amount, "currency": currency, "pan": pan,
        "expiry": expiry, "terminal_id": terminal_id, "merchant_id": merchant_id,
    }


def _txn(row: sqlite3.Row) -> Txn:
    return Txn(row["id"], _KINDS[row["kind"]], row["rrn"], date.fromisoformat(row["date"]), row["amount"],
               row["currency"], row["pan"], row["expiry"], row["terminal_id"], row["merchant_id"], row["stan"],
               row["batch"], row["orig_id"], row["reason"], row["approval_code"], row["source"],
               row["reversed_at"] is not None, row["refunded"], bool(row["voided"]))


_KINDS = {kind.value: kind for kind in Kind}

#: What a refund (its amount) or a void (one) adds to its sale's totals; a reversal adds the opposite.
_ADD_TO_SALE = {Kind.REFUND: "UPDATE txns SET refunded = refunded + ? WHERE id = ?",
                Kind.VOID: "UPDATE txns SET voided = voided + ? WHERE id = ?"}

#: A sale's totals as its rows say them (the sale is ``txns``, as named in the statement around them).
_COUNTED_REFUNDED = ("COALESCE((SELECT SUM(r.amount) FROM txns r WHERE r.orig_id = txns.id AND r.kind = 'REFUND'"
                     " AND r.reversed_at IS NULL), 0)")
_COUNTED_VOIDED = ("(SELECT COUNT(*) FROM txns v WHERE v.orig_id = txns.id AND v.kind = 'VOID'"
                   " AND v.reversed_at IS NULL)")

_RECOUNT = f"UPDATE txns SET refunded = {_COUNTED_REFUNDED}, voided = {_COUNTED_VOIDED} WHERE kind = 'SALE'"


_stamp: tuple[int, str] = (-1, "")


def _now() -> str:
    """The current UTC second in ISO form, made once a second (every row written carries one)."""
    global _stamp
    second = int(time.time())
    if second != _stamp[0]:
        _stamp = (second, datetime.fromtimestamp(second, UTC).isoformat())
    return _stamp[1]
