"""Reads bitmap glyphs from an X11 PCF font file (the format Debian's bitmap fonts ship in).

Only what a fixed-height bitmap font needs: the font's ascent and descent,
each glyph's metrics and bitmap, and the Unicode encoding map. The layout
follows the format as X.Org's libXfont writes it: a table of contents, then
tables that each start with their own format word (always little-endian),
after which the table's byte order is the one that word names.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from micropos.errors import SetupError

_ACCELERATORS = 1 << 1
_METRICS = 1 << 2
_BITMAPS = 1 << 3
_BDF_ENCODINGS = 1 << 5
_BDF_ACCELERATORS = 1 << 8

_COMPRESSED_METRICS = 0x100
_BYTE_MSB_FIRST = 1 << 2
_BIT_MSB_FIRST = 1 << 3
_NO_GLYPH = 0xFFFF


@dataclass(frozen=True)
class Glyph:
    """One glyph: ``rows`` are its bitmap rows top to bottom, each a string of '#' and '.'.

    Attributes:
        advance: how far the pen moves after it, in pixels.
        left: the bitmap's offset from the pen (left side bearing).
        ascent: rows of the bitmap above the baseline.
    """

    advance: int
    left: int
    ascent: int
    rows: tuple[str, ...]


@dataclass(frozen=True)
class Font:
    ascent: int
    descent: int
    glyphs: dict[int, Glyph]  # by Unicode code point

    @property
    def height(self) -> int:
        return self.ascent + self.descent


class _Table:
    def __init__(self, data: bytes, offset: int):
        (self.format,) = struct.unpack_from("<I", data, offset)
        self.data = data
        self.at = offset + 4
        self.order = ">" if self.format & _BYTE_MSB_FIRST else "<"

    def read(self, fmt: str) -> tuple[int, ...]:
        values = struct.unpack_from(self.order + fmt, self.data, self.at)
        self.at += struct.calcsize(self.order + fmt)
        return values


def read(path: Path) -> Font:
    """The font in the PCF file ``path``.

    Raises:
        SetupError: the file is missing or is not a PCF font with metrics, bitmaps and encodings.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SetupError(f"cannot read the font {path}: {exc.strerror}") from exc
    if data[:4] != b"\x01fcp":
        raise SetupError(f"{path} is not a PCF font")
    (count,) = struct.unpack_from("<I", data, 4)
    tables: dict[int, int] = {}
    for i in range(count):
        kind, _fmt, _size, offset = struct.unpack_from("<IIII", data, 8 + 16 * i)
        tables[kind] = offset
    for kind, name in ((_METRICS, "metrics"), (_BITMAPS, "bitmaps"), (_BDF_ENCODINGS, "encodings")):
        if kind not in tables:
            raise SetupError(f"{path} has no {name} table")
    accel = tables.get(_BDF_ACCELERATORS, tables.get(_ACCELERATORS))
    if accel is None:
        raise SetupError(f"{path} has no accelerators table (the font's ascent and descent)")
    t = _Table(data, accel)
    t.at += 8  # eight one-byte flags
    ascent, descent = t.read("ii")

    metrics = _metrics(_Table(data, tables[_METRICS]))
    bitmaps = _bitmaps(_Table(data, tables[_BITMAPS]), metrics)
    glyphs: dict[int, Glyph] = {}
    for code, index in _encodings(_Table(data, tables[_BDF_ENCODINGS])):
        left, _right, advance, glyph_ascent, _descent = metrics[index]
        glyphs[code] = Glyph(advance, left, glyph_ascent, bitmaps[index])
    return Font(ascent, descent, glyphs)


def _metrics(t: _Table) -> list[tuple[int, int, int, int, int]]:
    """(left bearing, right bearing, advance, ascent, descent) of every glyph."""
    out = []
    if t.format & _COMPRESSED_METRICS:
        (n,) = t.read("H")  # unsigned: a CJK font has more than 32,767 glyphs
        for _ in range(n):
            out.append(tuple(v - 0x80 for v in t.read("5B")))
    else:
        (n,) = t.read("i")
        for _ in range(n):
            out.append(t.read("5hH")[:5])
    return out  # type: ignore[return-value]


def _bitmaps(t: _Table, metrics: list[tuple[int, int, int, int, int]]) -> list[tuple[str, ...]]:
    (n,) = t.read("i")
    offsets = t.read(f"{n}i")
    t.read("4i")  # the data's size for each of the four paddings
    base = t.at
    pad = 1 << (t.format & 3)
    unit = 1 << ((t.format >> 4) & 3)
    msb_bits = bool(t.format & _BIT_MSB_FIRST)
    swap = bool(t.format & _BYTE_MSB_FIRST) != msb_bits and unit > 1
    out = []
    for i in range(n):
        left, right, _advance, ascent, descent = metrics[i]
        width, height = right - left, ascent + descent
        stride = ((width + 7) // 8 + pad - 1) // pad * pad
        rows = []
        for y in range(height):
            start = base + offsets[i] + y * stride
            row = bytearray(t.data[start:start + stride])
            if swap:
                for u in range(0, stride, unit):
                    row[u:u + unit] = row[u:u + unit][::-1]
            bits = "".join(format(b if msb_bits else int(f"{b:08b}"[::-1], 2), "08b") for b in row)
            rows.append(bits[:width].replace("1", "#").replace("0", "."))
        out.append(tuple(rows))
    return out


def _encodings(t: _Table) -> list[tuple[int, int]]:
    """(code point, glyph index) for every encoded glyph."""
    min2, max2, min1, max1, _default = t.read("5h")
    per_row = max2 - min2 + 1
    n = per_row * (max1 - min1 + 1)
    indices = t.read(f"{n}H")
    out = []
    for i, index in enumerate(indices):
        if index != _NO_GLYPH:
            out.append((((min1 + i // per_row) << 8) | (min2 + i % per_row), index))
    return out
