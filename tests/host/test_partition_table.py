"""The board's partition table: the CSV, the checks on it, and the binary ``make flash`` writes at 0x8000."""
from __future__ import annotations

import hashlib
import struct

import pytest

from micropos import partition_table as pt
from micropos import paths
from micropos.errors import SetupError

CSV = paths.BOARDS / "esp32_devkitc_partitions.csv"

# boards/esp32_devkitc.py's docstring: (name, type, subtype, offset, size)
DOCUMENTED = [
    ("nvs", 0x01, 0x02, 0x009000, 24 * 1024),
    ("phy_init", 0x01, 0x01, 0x00F000, 4 * 1024),
    ("factory", 0x00, 0x00, 0x010000, 1984 * 1024),
    ("vfs", 0x01, 0x81, 0x200000, 1792 * 1024),
    ("journal", 0x01, 0x40, 0x3C0000, 256 * 1024),
]


def test_the_csv_is_the_documented_layout():
    parts = pt.load(CSV)
    assert [(p.name, p.type, p.subtype, p.offset, p.size) for p in parts] == DOCUMENTED
    assert parts[-1].end == 4 * 1024 * 1024
    assert all(a.end == b.offset for a, b in zip(parts, parts[1:], strict=False))


def test_the_table_round_trips():
    parts = pt.load(CSV)
    table = pt.encode(parts)
    assert len(table) == 0xC00
    assert pt.decode(table) == parts


def test_the_table_has_the_journal_and_a_right_md5():
    table = pt.encode(pt.load(CSV))
    journal = pt.find(pt.decode(table), "journal")
    assert journal is not None
    assert (journal.type, journal.offset, journal.size) == (0x01, 0x3C0000, 0x40000)
    assert pt.find(pt.decode(table), "nope") is None

    # Read the bytes independently of the module's own struct.
    entries = table[:5 * 32]
    journal_entry = entries[4 * 32:5 * 32]
    assert journal_entry[:4] == b"\xaa\x50\x01\x40"
    assert struct.unpack_from("<II", journal_entry, 4) == (0x3C0000, 0x40000)
    assert journal_entry[12:28] == b"journal" + bytes(9)
    assert journal_entry[28:] == bytes(4)
    md5_entry = table[5 * 32:6 * 32]
    assert md5_entry == b"\xeb\xeb" + b"\xff" * 14 + hashlib.md5(entries).digest()
    assert table[6 * 32:] == b"\xff" * (0xC00 - 6 * 32)


def test_a_damaged_table_is_not_read():
    table = bytearray(pt.encode(pt.load(CSV)))
    table[4 * 32 + 4] ^= 1  # the journal's offset
    with pytest.raises(SetupError, match="MD5 at byte 0xA0 does not match"):
        pt.decode(bytes(table))


HEAD = "# Name, Type, SubType, Offset, Size, Flags\nnvs, data, nvs, 0x9000, 0x6000,\n"


@pytest.mark.parametrize(("line", "message"), [
    ("vfs, data, fat, 0xA000, 0x1000,",
     "t.csv:3: 'vfs' (0xA000-0xB000) overlaps 'nvs' (0x9000-0xF000) on line 2"),
    ("journal, data, 0x40, 0x3C0800, 0x40000,",
     "t.csv:3: 'journal' starts at 0x3C0800, not on the 4 KB boundary a data partition needs"),
    ("factory, app, factory, 0x18000, 1M,",
     "t.csv:3: 'factory' starts at 0x18000, not on the 64 KB boundary an app partition needs"),
    ("journal_partition, data, 0x40, 0x3C0000, 256K,",
     "t.csv:3: name 'journal_partition' is 17 bytes long, the table holds at most 16"),
    ("journal, data, 0x40, 0x3E0000, 256K,",
     "t.csv:3: 'journal' ends at 0x420000, beyond the 4 MB flash"),
    ("nvs, data, nvs, 0xF000, 0x1000,",
     "t.csv:3: name 'nvs' is already used on line 2"),
    ("early, data, nvs, 0x7000, 0x1000,",
     "t.csv:3: 'early' starts at 0x7000, inside the bootloader or the partition table "
     "(partitions start at 0x9000 or later)"),
    ("odd, data, 0x40, 0x10000, 0x800,",
     "t.csv:3: 'odd' size 0x800 is not a positive multiple of 4 KB"),
    ("j, data, journal, 0x10000, 0x1000,",
     "t.csv:3: subtype 'journal' is not ota, phy, nvs, coredump, nvs_keys, efuse, undefined, esphttpd, fat, "
     "spiffs, littlefs or a number 0x00-0xFE"),
    ("a, app, ota_16, 0x10000, 0x10000,",
     "t.csv:3: subtype 'ota_16' is not factory, ota_0..ota_15, test or a number 0x00-0xFE"),
    ("j, blob, 0x40, 0x10000, 0x1000,",
     "t.csv:3: type 'blob' is not app, data or a number 0x00-0xFE"),
    ("j, data, 0x40, 0x10000, 4G?,",
     "t.csv:3: size '4G?' is not a number (decimal, 0x hex, optionally with K or M)"),
    ("j, data, 0x40, 0x10000, 0x1000, secret",
     "t.csv:3: flag 'secret' is not one of encrypted, readonly"),
    ("j, data, 0x40, 0x10000",
     "t.csv:3: expected 'Name, Type, SubType, Offset, Size[, Flags]', got 4 fields"),
])
def test_a_bad_line_is_rejected_with_its_line(line, message):
    with pytest.raises(SetupError) as caught:
        pt.parse(HEAD + line + "\n", source="t.csv")
    assert str(caught.value) == message


def test_numbers_and_names_in_esp_idf_notation():
    parts = pt.parse("a, data, 2, 36864, 24K,\n"
                     "b, 1, undefined, , 0x1000, readonly\n"
                     "c, app, ota_1, , 1M, encrypted:readonly\n"
                     "d, 0x40, 0x07, 0x3FF000, 4K,\n")
    assert [(p.name, p.type, p.subtype, p.offset, p.size, p.flags) for p in parts] == [
        ("a", 0x01, 0x02, 0x9000, 0x6000, 0),
        ("b", 0x01, 0x06, 0xF000, 0x1000, 0b10),  # a blank offset follows the previous partition
        ("c", 0x00, 0x11, 0x10000, 0x100000, 0b11),  # ... aligned to 64 KB for an app
        ("d", 0x40, 0x07, 0x3FF000, 0x1000, 0),
    ]
    assert pt.decode(pt.encode(parts)) == parts


def test_a_missing_csv_names_the_file(tmp_path):
    with pytest.raises(SetupError, match="cannot read the partition table .*missing.csv"):
        pt.load(tmp_path / "missing.csv")
