"""The terminal's 中文 glyph file: exactly the characters its words use, from a real bitmap font.

``micropos font build`` subsets a PCF bitmap font (WenQuanYi Bitmap Song
12 px, from Debian's ``xfonts-wqy``) to the characters that the firmware's
strings and its configured merchant name hold, and writes
``firmware/words/glyphs_zh.bin``, which is committed.  The firmware reads it
from flash one glyph at a time (``firmware/drivers/textscreen.py``): no glyph
table ever sits in the heap.  Each entry also carries the character's
GB18030 code, the bytes a thermal printer's Chinese mode prints, so the
board needs no code table of its own.

Layout (little-endian)::

    "MPG1"  cell width (1 byte)  cell height (1)  count (2)
    count x code point (2 bytes, ascending: a binary search finds one)
    count x GB18030 code (2 bytes, first byte first)
    count x bitmap (cell height rows of ceil(width / 8) bytes, MSB left: framebuf MONO_HLSB)

Every glyph is drawn in a cell of 12 x 12 pixels, its baseline on the cell's
last row but one, so the panel's rows can be laid out in whole cells.
"""
from __future__ import annotations

import ast
import struct
from dataclasses import dataclass
from pathlib import Path

from micropos import paths, pcf
from micropos.errors import SetupError

MAGIC = b"MPG1"
CELL = 12  # pixels, each way
_BASELINE = 11  # cell rows above the baseline
DEFAULT_FONT = Path("/usr/share/fonts/X11/misc/wenquanyi_9pt.pcf")  # 9 pt at 96 dpi: 12 px
GLYPH_FILE = paths.FIRMWARE / "words" / "glyphs_zh.bin"
FONT_PACKAGE = "xfonts-wqy"
FONT_NAME = "WenQuanYi Bitmap Song 12 px"
FONT_LICENCE = "GPL-2.0 with font embedding exception"


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def strings_in(source: Path) -> list[str]:
    """Every string constant of the source file, docstrings left out (they never reach a screen)."""
    tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
    skip = _docstrings(tree)
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


def firmware_sources() -> list[Path]:
    return sorted(p for p in paths.FIRMWARE.rglob("*.py") if "__pycache__" not in p.parts)


def characters_needed() -> str:
    """The non-ASCII characters the firmware can show or print, sorted.

    Its words and every other string it holds, the configured merchant name
    (``firmware/domain/config.py``) among them.
    """
    found: set[str] = set()
    for source in firmware_sources():
        for text in strings_in(source):
            found.update(ch for ch in text if ord(ch) > 0x7E)
    return "".join(sorted(found))


def gb18030(ch: str) -> bytes:
    """The character's two GB18030 bytes; SetupError for one that needs four (outside GBK)."""
    code = ch.encode("gb18030")
    if len(code) != 2:
        raise SetupError(f"'{ch}' (U+{ord(ch):04X}) has no two-byte GB18030 code: a printer cannot print it")
    return code


def _cell(glyph: pcf.Glyph) -> bytes:
    """The glyph in a CELL x CELL cell, MONO_HLSB: rows of two bytes, most significant bit leftmost."""
    out = bytearray(2 * CELL)
    top = _BASELINE - glyph.ascent
    for y, row in enumerate(glyph.rows):
        cy = top + y
        if not 0 <= cy < CELL:
            continue
        for x, bit in enumerate(row):
            cx = glyph.left + x
            if bit == "#" and 0 <= cx < CELL:
                out[cy * 2 + cx // 8] |= 0x80 >> (cx % 8)
    return bytes(out)


def build(chars: str, font_path: Path = DEFAULT_FONT) -> bytes:
    """The glyph file for ``chars``.

    Raises:
        SetupError: the font is missing, lacks a character, or a character has no printable GB18030 code.
    """
    if not font_path.exists():
        raise SetupError(f"no font at {font_path}: install Debian's {FONT_PACKAGE} "
                         f"(apt-get install {FONT_PACKAGE}) or name a PCF font with --font")
    font = pcf.read(font_path)
    codes = sorted({ord(ch) for ch in chars})
    missing = [chr(c) for c in codes if c not in font.glyphs]
    if missing:
        raise SetupError(f"{font_path.name} has no glyph for {''.join(missing)}")
    if any(c > 0xFFFF for c in codes):
        raise SetupError("a character outside the Basic Multilingual Plane cannot be in the glyph file")
    out = bytearray(MAGIC + struct.pack("<BBH", CELL, CELL, len(codes)))
    out += struct.pack(f"<{len(codes)}H", *codes)
    for c in codes:
        out += gb18030(chr(c))
    for c in codes:
        out += _cell(font.glyphs[c])
    return bytes(out)


@dataclass(frozen=True)
class GlyphFile:
    """A glyph file as the host reads it back (tests, the receipt renderer)."""

    width: int
    height: int
    codes: tuple[int, ...]
    gb: tuple[bytes, ...]
    bitmaps: tuple[bytes, ...]

    @classmethod
    def parse(cls, data: bytes) -> GlyphFile:
        if data[:4] != MAGIC:
            raise SetupError("not a micropos glyph file (no MPG1 header)")
        width, height, count = struct.unpack_from("<BBH", data, 4)
        codes = struct.unpack_from(f"<{count}H", data, 8)
        at = 8 + 2 * count
        gb = tuple(data[at + 2 * i:at + 2 * i + 2] for i in range(count))
        at += 2 * count
        size = height * ((width + 7) // 8)
        bitmaps = tuple(data[at + size * i:at + size * (i + 1)] for i in range(count))
        if at + size * count != len(data):
            raise SetupError(f"glyph file of {len(data)} bytes, {at + size * count} expected for {count} glyphs")
        return cls(width, height, codes, gb, bitmaps)

    @classmethod
    def load(cls, path: Path = GLYPH_FILE) -> GlyphFile:
        try:
            return cls.parse(path.read_bytes())
        except OSError as exc:
            raise SetupError(f"cannot read the glyph file {path}: {exc.strerror}; run 'micropos font build'") from exc

    def characters(self) -> str:
        return "".join(chr(c) for c in self.codes)

    def pixels(self, ch: str) -> list[list[bool]] | None:
        """The glyph of ``ch`` as rows of pixels, or None when the file lacks it."""
        try:
            bitmap = self.bitmaps[self.codes.index(ord(ch))]
        except ValueError:
            return None
        stride = (self.width + 7) // 8
        return [[bool(bitmap[y * stride + x // 8] & (0x80 >> (x % 8))) for x in range(self.width)]
                for y in range(self.height)]


def write(font_path: Path = DEFAULT_FONT, out: Path = GLYPH_FILE) -> str:
    """Builds the glyph file for what the firmware needs now; returns a line saying what was written."""
    chars = characters_needed()
    data = build(chars, font_path)
    out.write_bytes(data)
    return f"{out}: {len(chars)} characters from {font_path.name}, {len(data)} bytes"
