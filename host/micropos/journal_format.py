"""Reads the terminal's transaction journal from a flash image, for export.

The format is the one firmware/journal.py writes (docs/journal-format.md).
This reader never stops at damage: it reports each region it could not read,
with the reason, and returns everything else.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from micropos import tables
from micropos.errors import MicroposError

MAGIC = b"MPJ\x01"
HEADER_SIZE = 32
HEADER_CRC_AT = 20
RETIRED_AT = 24
ERASED = 0xFF

TAG_PENDING, PENDING_SIZE = 0x67, 39
TAG_OUTCOME, OUTCOME_SIZE = 0x99, 25
TAG_MARK, MARK_SIZE = 0xCD, 13
RECORD_SIZES = {TAG_PENDING: PENDING_SIZE, TAG_OUTCOME: OUTCOME_SIZE, TAG_MARK: MARK_SIZE}
MAX_RECORD = 63

TYPE_NAMES = tables.kind_names()
STATUS_NAMES = tables.status_names()
SALE, VOID = (next(n for n, name in TYPE_NAMES.items() if name == wanted) for wanted in ("SALE", "VOID"))
APPROVED = next(n for n, name in STATUS_NAMES.items() if name == "APPROVED")
MARK_SETTLED, MARK_LOCKOUT, MARK_RESERVED = 1, 2, 3
REFUND_REASONS = {1: "damaged", 2: "not received", 3: "wrong item", 4: "other"}
REVERSAL_REASONS = {98: "no response", 6: "response rejected"}
CHARSET = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"

CSV_COLUMNS = ("seq", "time", "type", "status", "amount", "currency", "stan", "rrn", "orig_rrn", "pan",
               "response_code", "auth_code", "reason", "batch")


TORN_TAIL = "torn write at the end of the log (the power failed while it was written; never acknowledged)"
NO_HEADER = "no journal header (free sector, or an erase was interrupted)"
TORN_HEADER = "sector header checksum mismatch (an erase or header write was interrupted)"
RETIRED = "retired sector (its settled records were being reclaimed)"
#: What a power cut leaves behind and the firmware reads past: reported, but not damage.  (A retired
#: sector is one the power cut between retiring and erasing: its records were all of settled batches.)
POWER_CUT_TRACES = frozenset({TORN_TAIL, NO_HEADER, TORN_HEADER, RETIRED})


@dataclass(frozen=True)
class Skipped:
    """A region of the image that holds no readable record, and why."""

    sector: int
    offset: int
    length: int
    reason: str

    def __str__(self) -> str:
        return f"sector {self.sector} offset {self.offset} ({self.length} bytes): {self.reason}"


@dataclass(frozen=True)
class Pending:
    seq: int
    time: int
    type: int
    amount: int
    currency: int
    entry: int
    reason: int
    stan: int
    pan: str
    orig_rrn: str
    orig_date: int
    batch: int


@dataclass(frozen=True)
class Outcome:
    seq: int
    status: int
    rrn: str
    auth_code: str
    response_code: str


@dataclass(frozen=True)
class Mark:
    seq: int
    code: int
    value: int


Record = Pending | Outcome | Mark


@dataclass(frozen=True)
class Transaction:
    """A pending record with its latest outcome applied."""

    pending: Pending
    status: int = 0
    rrn: str = ""
    auth_code: str = ""
    response_code: str = ""
    voided: bool = False  # an approved sale whose void was approved too: exported as VOIDED

    @property
    def seq(self) -> int:
        return self.pending.seq

    def row(self) -> dict[str, str]:
        """The export row, keyed by CSV_COLUMNS."""
        p = self.pending
        return {
            "seq": str(p.seq),
            "time": iso_time(p.time),
            "type": TYPE_NAMES.get(p.type, str(p.type)),
            "status": "VOIDED" if self.voided else STATUS_NAMES.get(self.status, str(self.status)),
            "amount": decimal_amount(p.amount, p.currency),
            "currency": f"{p.currency:03d}",
            "stan": f"{p.stan:06d}",
            "rrn": self.rrn,
            "orig_rrn": p.orig_rrn,
            "pan": p.pan,
            "response_code": self.response_code,
            "auth_code": self.auth_code,
            "reason": reason_text(p.type, p.reason),
            "batch": str(p.batch),
        }


@dataclass
class JournalImage:
    """Everything read from one journal partition: records in journal order and what was skipped."""

    records: list[Record] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    sectors_live: int = 0
    sectors_total: int = 0

    def transactions(self) -> list[Transaction]:
        """One entry per transaction, oldest first, with its latest outcome (an outcome may come much later)."""
        by_seq: dict[int, Transaction] = {}
        for record in self.records:
            if isinstance(record, Pending):
                by_seq[record.seq] = Transaction(record)
            elif isinstance(record, Outcome) and record.seq in by_seq:
                by_seq[record.seq] = replace(by_seq[record.seq], status=record.status, rrn=record.rrn,
                                             auth_code=record.auth_code, response_code=record.response_code)
        voided = {t.pending.orig_rrn for t in by_seq.values() if t.pending.type == VOID and t.status == APPROVED}
        for seq, txn in by_seq.items():
            if txn.pending.type == SALE and txn.status == APPROVED and txn.rrn in voided:
                by_seq[seq] = replace(txn, voided=True)
        return sorted(by_seq.values(), key=lambda t: t.seq)

    def rows(self) -> list[dict[str, str]]:
        return [t.row() for t in self.transactions()]


class JournalFormatError(MicroposError, ValueError):
    """The image cannot be a journal at all (wrong size)."""


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decimal_amount(minor: int, currency: int) -> str:
    exponent = tables.exponent(currency)
    if exponent == 0:
        return str(minor)
    whole, fraction = divmod(minor, 10**exponent)
    return f"{whole}.{fraction:0{exponent}d}"


def reason_text(txn_type: int, reason: int) -> str:
    if reason == 0:
        return ""
    table = REFUND_REASONS if txn_type == 2 else REVERSAL_REASONS if txn_type == 4 else {}
    return table.get(reason, str(reason))


def unpack_text(data: bytes, bit: int, width: int) -> str:
    """width 6-bit characters from bit offset `bit` of data, trailing spaces removed."""
    value = int.from_bytes(data, "big")
    total = len(data) * 8
    chars = [CHARSET[(value >> (total - bit - 6 * (i + 1))) & 0x3F] for i in range(width)]
    return "".join(chars).rstrip()


def _bcd(data: bytes) -> str:
    return data.hex()


def _crc_ok(data: bytes) -> bool:
    stored: int = struct.unpack_from("<I", data, len(data) - 4)[0]
    return zlib.crc32(data[:-4]) == stored


def decode_record(data: bytes, batch: int) -> Record:
    """Decodes one record whose tag and CRC have been checked."""
    tag = data[0]
    seq = struct.unpack_from("<I", data, 1)[0]
    if tag == TAG_PENDING:
        time, amount = struct.unpack_from("<II", data, 5)
        packed = int.from_bytes(data[13:16], "little")
        stan = int.from_bytes(data[16:19], "little")
        date_len = struct.unpack_from("<H", data, 33)[0]
        pan_len = date_len >> 11
        pan = _bcd(data[19:22]) + "*" * (pan_len - 10) + _bcd(data[22:24]) if pan_len else ""
        return Pending(seq=seq, time=time, type=(packed >> 10) & 7, amount=amount, currency=packed & 0x3FF,
                       entry=(packed >> 13) & 3, reason=(packed >> 15) & 0x7F, stan=stan, pan=pan,
                       orig_rrn=unpack_text(data[24:33], 0, 12), orig_date=date_len & 0x7FF, batch=batch)
    if tag == TAG_OUTCOME:
        codes = data[6:21]
        return Outcome(seq=seq, status=data[5], rrn=unpack_text(codes, 0, 12),
                       auth_code=unpack_text(codes, 72, 6), response_code=unpack_text(codes, 108, 2))
    return Mark(seq=seq, code=data[5], value=int.from_bytes(data[6:9], "little"))


@dataclass(frozen=True)
class _Header:
    sector: int
    gen: int
    first_seq: int
    oldest_open: int
    batch: int


def _header(image: bytes, sector: int, block_size: int) -> tuple[_Header | None, str]:
    base = sector * block_size
    raw = image[base: base + HEADER_SIZE]
    if raw == b"\xff" * HEADER_SIZE:
        return None, ""
    if raw[:4] != MAGIC:
        return None, NO_HEADER
    if zlib.crc32(raw[:HEADER_CRC_AT]) != struct.unpack_from("<I", raw, HEADER_CRC_AT)[0]:
        return None, TORN_HEADER
    if raw[RETIRED_AT] != ERASED:
        return None, RETIRED
    gen, first_seq, oldest_open = struct.unpack_from("<III", raw, 4)
    return _Header(sector, gen, first_seq, oldest_open, int.from_bytes(raw[16:19], "little")), ""


def read_journal(image: bytes, block_size: int = 4096) -> JournalImage:
    """Reads a journal partition image (a whole number of sectors)."""
    if not image or len(image) % block_size:
        raise JournalFormatError(f"{len(image)} bytes is not a whole number of {block_size}-byte sectors")
    count = len(image) // block_size
    result = JournalImage(sectors_total=count)
    headers: list[_Header] = []
    for sector in range(count):
        header, why = _header(image, sector, block_size)
        if header is not None:
            headers.append(header)
        elif why:
            end = image[sector * block_size: (sector + 1) * block_size]
            if end.count(ERASED) != block_size:
                result.skipped.append(Skipped(sector, 0, block_size, why))
    headers.sort(key=lambda h: h.gen)
    result.sectors_live = len(headers)
    last_seq = 0
    for header in headers:
        last_seq = _read_sector(image, header, block_size, result, last_seq, header is headers[-1])
    return result


def _read_sector(image: bytes, header: _Header, block_size: int, result: JournalImage, last_seq: int,
                 is_head: bool) -> int:
    base = header.sector * block_size
    sector = image[base: base + block_size]
    batch = header.batch
    off = HEADER_SIZE
    while off < block_size:
        tag = sector[off]
        if tag == ERASED:
            rest = sector[off:]
            if rest.count(ERASED) != len(rest):
                first = next(i for i, b in enumerate(rest) if b != ERASED)
                result.skipped.append(Skipped(header.sector, off + first, len(rest) - first,
                                              "programmed bytes after the end of the log (torn write)"))
            return last_seq
        if tag == 0:
            off += 1  # padding laid over a torn write
            continue
        size = RECORD_SIZES.get(tag)
        if size is None or off + size > block_size:
            reason = "unknown bytes (torn write at the end of the log)" if is_head else "unknown bytes"
            result.skipped.append(Skipped(header.sector, off, block_size - off, reason + "; rest of sector unreadable"))
            return last_seq
        data = sector[off: off + size]
        if not _crc_ok(data):
            if is_head and sector[off + size:].count(ERASED) == block_size - off - size:
                reason = TORN_TAIL  # the firmware pads over it before its next write
            else:
                reason = "record checksum mismatch"
            result.skipped.append(Skipped(header.sector, off, size, reason))
            off += size
            continue
        record = decode_record(data, batch)
        if isinstance(record, (Pending, Mark)):
            if record.seq <= last_seq:
                result.skipped.append(Skipped(header.sector, off, size, f"seq {record.seq} out of order"))
                off += size
                continue
            last_seq = record.seq
        if isinstance(record, Mark) and record.code == MARK_SETTLED:
            batch = 1 if record.value + 1 >= 1_000_000 else record.value + 1
        result.records.append(record)
        off += size
    return last_seq


def read_image(path: str | Path, offset: int = 0, length: int | None = None, block_size: int = 4096) -> JournalImage:
    """Reads the journal partition at [offset, offset+length) of a flash image file (the whole file by default)."""
    data = Path(path).read_bytes()
    end = len(data) if length is None else offset + length
    return read_journal(data[offset:end], block_size)


def iter_rows(image: JournalImage) -> Iterator[list[str]]:
    """CSV rows, header first."""
    yield list(CSV_COLUMNS)
    for row in image.rows():
        yield [row[c] for c in CSV_COLUMNS]
