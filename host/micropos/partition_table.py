"""A board's ESP32 partition table: its ESP-IDF CSV parsed, checked and encoded.

MicroPython's stock ESP32 table has no raw ``journal`` partition, so ``make
flash`` writes the board's own table (``boards/<board>_partitions.csv``) at
0x8000. This module turns that CSV into the binary the ESP-IDF bootloader reads,
written from ESP-IDF's description of both formats, so the host needs no ESP-IDF.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

from micropos.errors import SetupError

TABLE_OFFSET = 0x8000  # where the bootloader looks for the table
TABLE_SIZE = 0xC00  # the table's bytes: entries, MD5 entry, then 0xFF
FLASH_SIZE = 4 * 1024 * 1024
SECTOR = 0x1000  # the flash erase unit

# magic, type, subtype, offset, size, label, flags: 32 bytes, little-endian
ENTRY = struct.Struct("<2sBBII16sI")
MAGIC = b"\xaa\x50"
MD5_MAGIC = b"\xeb\xeb"
MAX_ENTRIES = TABLE_SIZE // ENTRY.size - 1  # one slot is the MD5 entry
LABEL_SIZE = 16

APP, DATA = 0x00, 0x01
TYPES = {"app": APP, "data": DATA}
SUBTYPES = {
    APP: {"factory": 0x00, **{f"ota_{n}": 0x10 + n for n in range(16)}, "test": 0x20},
    DATA: {"ota": 0x00, "phy": 0x01, "nvs": 0x02, "coredump": 0x03, "nvs_keys": 0x04, "efuse": 0x05,
           "undefined": 0x06, "esphttpd": 0x80, "fat": 0x81, "spiffs": 0x82, "littlefs": 0x83},
}
FLAGS = {"encrypted": 1 << 0, "readonly": 1 << 1}
APP_ALIGN = 0x10000  # app partitions start on 64 KB boundaries, every other kind on a sector

COLUMNS = "Name, Type, SubType, Offset, Size[, Flags]"


@dataclass(frozen=True)
class Partition:
    """One entry of the table.

    Attributes:
        name: The label, at most 16 ASCII bytes.
        type: 0x00 app, 0x01 data, or an application-defined type.
        subtype: Meaning depends on ``type`` (factory, nvs, fat, ...).
        offset: First byte in flash.
        size: Length in bytes.
        flags: Bit 0 encrypted, bit 1 readonly.
        line: The CSV line it came from (0 when decoded from a binary); not compared.
    """

    name: str
    type: int
    subtype: int
    offset: int
    size: int
    flags: int = 0
    line: int = field(default=0, compare=False)

    @property
    def end(self) -> int:
        """The first byte after the partition."""
        return self.offset + self.size


def _hex(value: int) -> str:
    return f"0x{value:X}"


def _number(text: str, where: str, what: str) -> int:
    """An ESP-IDF CSV number: decimal or 0x hex, optionally with a K or M suffix (KiB, MiB)."""
    scale = {"K": 1024, "M": 1024 * 1024}.get(text[-1:].upper(), 1)
    digits = text[:-1] if scale > 1 else text
    try:
        value = int(digits, 0) * scale
    except ValueError:
        value = -1
    if value < 0:
        raise SetupError(f"{where}: {what} '{text}' is not a number (decimal, 0x hex, optionally with K or M)")
    return value


def _byte(text: str, names: dict[str, int], where: str, what: str) -> int:
    """A type or subtype: one of ``names`` or a number 0x00-0xFE."""
    if text.lower() in names:
        return names[text.lower()]
    try:
        value = int(text, 0)
    except ValueError:
        value = -1
    if not 0 <= value <= 0xFE:
        shown = [name for name in names if not name.startswith("ota_") or name == "ota_0"]
        known = ", ".join(shown).replace("ota_0", "ota_0..ota_15")
        choices = f"{known} or a number" if known else "a number"
        raise SetupError(f"{where}: {what} '{text}' is not {choices} 0x00-0xFE")
    return value


def _flags(text: str, where: str) -> int:
    bits = 0
    for flag in filter(None, (f.strip().lower() for f in text.split(":"))):
        if flag not in FLAGS:
            raise SetupError(f"{where}: flag '{flag}' is not one of {', '.join(FLAGS)}")
        bits |= FLAGS[flag]
    return bits


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def _check(part: Partition, earlier: list[Partition], where: str, flash_size: int) -> None:
    """Raises SetupError if ``part`` cannot join ``earlier`` in the table."""
    if not part.name:
        raise SetupError(f"{where}: the partition has no name")
    if not part.name.isascii():
        raise SetupError(f"{where}: name '{part.name}' is not ASCII")
    if len(part.name) > LABEL_SIZE:
        raise SetupError(f"{where}: name '{part.name}' is {len(part.name)} bytes long, "
                         f"the table holds at most {LABEL_SIZE}")
    for other in earlier:
        if other.name == part.name:
            raise SetupError(f"{where}: name '{part.name}' is already used on line {other.line}")
    align = APP_ALIGN if part.type == APP else SECTOR
    kind = {APP: "an app", DATA: "a data"}.get(part.type, "a custom-type")
    if part.offset % align:
        raise SetupError(f"{where}: '{part.name}' starts at {_hex(part.offset)}, "
                         f"not on the {align // 1024} KB boundary {kind} partition needs")
    if part.size <= 0 or part.size % SECTOR:
        raise SetupError(f"{where}: '{part.name}' size {_hex(part.size)} is not a positive multiple of 4 KB")
    if part.offset < TABLE_OFFSET + SECTOR:
        raise SetupError(f"{where}: '{part.name}' starts at {_hex(part.offset)}, inside the bootloader or the "
                         f"partition table (partitions start at {_hex(TABLE_OFFSET + SECTOR)} or later)")
    if part.end > flash_size:
        raise SetupError(f"{where}: '{part.name}' ends at {_hex(part.end)}, "
                         f"beyond the {flash_size // (1024 * 1024)} MB flash")
    for other in earlier:
        if part.offset < other.end and other.offset < part.end:
            raise SetupError(f"{where}: '{part.name}' ({_hex(part.offset)}-{_hex(part.end)}) overlaps "
                             f"'{other.name}' ({_hex(other.offset)}-{_hex(other.end)}) on line {other.line}")


def parse(text: str, source: str = "partitions.csv", flash_size: int = FLASH_SIZE) -> list[Partition]:
    """Parses and checks a partition table in ESP-IDF CSV format.

    Lines are ``Name, Type, SubType, Offset, Size[, Flags]``; lines starting
    with ``#`` are comments. A blank offset places the partition after the
    previous one (after the table for the first), aligned for its type.

    Args:
        text: The CSV.
        source: What to call the CSV in error messages, usually its path.
        flash_size: The flash every partition must fit in.

    Returns:
        The partitions, in the CSV's order.

    Raises:
        SetupError: A line is malformed or its partition does not fit; the
            message names the line.
    """
    parts: list[Partition] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        cells = [cell.strip() for cell in line.split(",")]
        if not 5 <= len(cells) <= 6:
            raise SetupError(f"{where}: expected '{COLUMNS}', got {len(cells)} fields")
        name, type_text, subtype_text, offset_text, size_text, flags_text = [*cells, ""][:6]
        type_ = _byte(type_text, TYPES, where, "type")
        subtype = _byte(subtype_text, SUBTYPES.get(type_, {}), where, "subtype")
        if offset_text:
            offset = _number(offset_text, where, "offset")
        else:
            after = parts[-1].end if parts else TABLE_OFFSET + SECTOR
            offset = _align(after, APP_ALIGN if type_ == APP else SECTOR)
        if not size_text:
            raise SetupError(f"{where}: '{name}' has no size")
        size = _number(size_text, where, "size")
        part = Partition(name, type_, subtype, offset, size, _flags(flags_text, where), line=number)
        _check(part, parts, where, flash_size)
        parts.append(part)
    if not parts:
        raise SetupError(f"{source}: no partitions")
    if len(parts) > MAX_ENTRIES:
        raise SetupError(f"{source}: {len(parts)} partitions, the table holds at most {MAX_ENTRIES}")
    return parts


def load(path: Path, flash_size: int = FLASH_SIZE) -> list[Partition]:
    """Parses and checks the CSV file at ``path`` (see :func:`parse`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SetupError(f"cannot read the partition table {path}: {exc.strerror or exc}") from None
    return parse(text, source=str(path), flash_size=flash_size)


def encode(parts: list[Partition]) -> bytes:
    """The binary table: one 32-byte entry per partition, the MD5 entry, 0xFF up to 0xC00 bytes.

    Args:
        parts: Partitions as :func:`parse` returns them (already checked).

    Raises:
        ValueError: A label does not fit or there are too many partitions.
    """
    if len(parts) > MAX_ENTRIES:
        raise ValueError(f"{len(parts)} partitions, the table holds at most {MAX_ENTRIES}")
    entries = bytearray()
    for part in parts:
        label = part.name.encode("ascii")
        if len(label) > LABEL_SIZE:
            raise ValueError(f"label '{part.name}' is longer than {LABEL_SIZE} bytes")
        entries += ENTRY.pack(MAGIC, part.type, part.subtype, part.offset, part.size, label, part.flags)
    digest = MD5_MAGIC + b"\xff" * 14 + hashlib.md5(entries).digest()
    table = bytes(entries) + digest
    return table + b"\xff" * (TABLE_SIZE - len(table))


def decode(data: bytes) -> list[Partition]:
    """The partitions of a binary table, checking its MD5 entry if it has one.

    Args:
        data: The table as written at 0x8000 (at least up to its last entry).

    Raises:
        SetupError: An entry has no known magic or the MD5 does not match.
    """
    parts: list[Partition] = []
    for at in range(0, min(len(data), TABLE_SIZE) - ENTRY.size + 1, ENTRY.size):
        chunk = data[at:at + ENTRY.size]
        if chunk[:2] == MAGIC:
            _, type_, subtype, offset, size, label, flags = ENTRY.unpack(chunk)
            name = label.split(b"\0", 1)[0].decode("ascii", errors="replace")
            parts.append(Partition(name, type_, subtype, offset, size, flags))
        elif chunk[:2] == MD5_MAGIC:
            if chunk[16:] != hashlib.md5(data[:at]).digest():
                raise SetupError(f"partition table MD5 at byte {_hex(at)} does not match its entries")
        elif chunk == b"\xff" * ENTRY.size:
            break
        else:
            raise SetupError(f"partition table entry at byte {_hex(at)} has magic {chunk[:2].hex()}, not aa50")
    return parts


def find(parts: list[Partition], label: str) -> Partition | None:
    """The partition labelled ``label``, or None."""
    return next((part for part in parts if part.name == label), None)


def write(csv_path: Path, out: Path) -> Path:
    """Encodes the CSV at ``csv_path`` into ``out`` (parents created) and returns ``out``.

    Raises:
        SetupError: The CSV cannot be read or is invalid.
    """
    table = encode(load(csv_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(table)
    return out
