"""``micropos log export``: the journal as CSV or JSON, from a flash image or a board.

A damaged image still exports: what could not be read is reported on stderr
(sector, offset, length, why) and every readable transaction is written.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TextIO

from micropos.boards import BLOCK_SIZE, EMULATOR
from micropos.errors import MicroposError
from micropos.journal_format import CSV_COLUMNS, JournalImage, iter_rows, read_image, read_journal


def emulator_journal_span() -> tuple[int, int]:
    """(offset, length) of the journal partition in an emulator flash image, from the board table."""
    return EMULATOR.journal_span


def from_flash_file(path: Path) -> JournalImage:
    if not path.is_file():
        raise MicroposError(f"no flash image {path}")
    offset, length = emulator_journal_span()
    if path.stat().st_size < offset + length:
        raise MicroposError(f"{path} is {path.stat().st_size} bytes: too small for an emulator flash image")
    return read_image(path, offset, length, BLOCK_SIZE)


# Runs on the board: prints its journal partition block by block as hex.
_DUMP = """
import board, binascii
p = board.journal_partition
if p is None:
    raise SystemExit("NO-JOURNAL: this board's partition table has no 'journal' partition")
buf = bytearray(BLOCK)
for b in range(p.ioctl(4, 0)):
    p.readblocks(b, buf)
    print(binascii.hexlify(buf).decode())
""".replace("BLOCK", str(BLOCK_SIZE))


def from_port(port: str) -> JournalImage:
    from micropos.deploy import mpremote

    out = mpremote(port, "exec", _DUMP, timeout=600)
    if "NO-JOURNAL" in out:
        raise MicroposError(f"the board at {port} has no 'journal' partition in its partition table")
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    try:
        data = b"".join(bytes.fromhex(line) for line in lines)
    except ValueError as exc:
        last = lines[-1] if lines else "nothing"
        raise MicroposError(f"the board at {port} did not send its journal: {last}") from exc
    return read_journal(data, BLOCK_SIZE)


NUMBERS = ("seq", "batch")  # JSON numbers; the amount too (a decimal number); codes and identifiers stay text


def _typed(row: dict[str, str]) -> dict[str, object]:
    """A CSV row as JSON has it: seq and batch as integers, the amount as a number (exact in its decimal digits).

    STAN, RRN, currency and codes are identifiers with meaningful leading
    zeros (000123, 036): they stay strings.
    """
    typed: dict[str, object] = dict(row)
    for name in NUMBERS:
        typed[name] = int(row[name])
    typed["amount"] = float(row["amount"]) if "." in row["amount"] else int(row["amount"])
    return typed


def write(image: JournalImage, fmt: str, out: TextIO, err: TextIO) -> int:
    """Writes the rows; reports skipped regions on ``err``; returns the number of rows."""
    for skipped in image.skipped:
        print(f"skipped: {skipped}", file=err)
    if fmt == "json":
        rows = [_typed(row) for row in image.rows()]
        json.dump(rows, out, indent=1, ensure_ascii=False)
        out.write("\n")
        return len(rows)
    writer = csv.writer(out, lineterminator="\n")
    count = -1
    for row in iter_rows(image):
        writer.writerow(row)
        count += 1
    return count


__all__ = ["CSV_COLUMNS", "from_flash_file", "from_port", "write", "emulator_journal_span"]
