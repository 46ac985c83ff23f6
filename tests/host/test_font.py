"""The 中文 glyph file: exactly the firmware's characters, from a real bitmap font, with their GB18030 codes.

The committed file is what the board reads; these tests fail when a word of
the firmware needs a glyph the file lacks (run ``micropos font build``), and
check the PCF reader on small fonts written here in both byte orders.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from micropos import font, pcf
from micropos.errors import SetupError


def test_the_glyph_file_holds_exactly_the_characters_the_firmware_uses():
    glyphs = font.GlyphFile.load()
    needed = font.characters_needed()
    missing = sorted(set(needed) - set(glyphs.characters()))
    assert not missing, f"no glyph for {''.join(missing)}: run 'micropos font build'"
    assert glyphs.characters() == needed, "characters nothing uses any more: run 'micropos font build'"
    assert "退" in needed and "货" in needed and "商" in needed  # a word, and the merchant name


def test_every_glyph_has_ink_and_the_gb18030_code_a_printer_prints():
    glyphs = font.GlyphFile.load()
    assert (glyphs.width, glyphs.height) == (12, 12)
    for ch, code in zip(glyphs.characters(), glyphs.gb, strict=True):
        assert code == ch.encode("gb18030"), ch
        pixels = glyphs.pixels(ch)
        assert pixels is not None and sum(map(sum, pixels)) > 4, ch


def test_a_glyph_is_the_fonts_bitmap_on_the_cells_baseline():
    # 退 as WenQuanYi Bitmap Song 12 px draws it, one blank row above it
    expected = [
        "............",
        "#...######..",
        ".#..#....#..",
        ".#..######..",
        "....#....#..",
        "##..######..",
        ".#..#.......",
        ".#..#.##.#..",
        ".#..#...#...",
        ".#..###..#..",
        "#.##........",
        "#...#######.",
    ]
    pixels = font.GlyphFile.load().pixels("退")
    assert pixels is not None
    assert ["".join("#" if p else "." for p in row) for row in pixels] == expected


def test_the_firmware_strings_are_read_without_their_docstrings(tmp_path):
    source = tmp_path / "m.py"
    source.write_text('"""模块说明"""\n\ndef f():\n    """函数说明"""\n    return "交易"\n')
    assert font.strings_in(source) == ["交易"]


# -- the PCF reader, on fonts written here ---------------------------------------

def _pcf(glyphs: dict[int, list[str]], big_endian: bool, ascent: int = 10, descent: int = 2) -> bytes:
    """A PCF font of 12-pixel-wide glyphs (rows of '#' and '.'), compressed metrics, byte padding."""
    order = ">" if big_endian else "<"
    fmt = 0x04 | 0x08 if big_endian else 0x08  # byte order MSB first (or not), bits MSB first, 1-byte padding
    codes = sorted(glyphs)

    def table(fmt_word: int, body: bytes) -> bytes:
        return struct.pack("<I", fmt_word) + body

    accel = table(fmt, bytes(8) + struct.pack(order + "iii", ascent, descent, 0) + bytes(24))
    metrics = table(fmt | 0x100, struct.pack(order + "h", len(codes)) + b"".join(
        bytes(v + 0x80 for v in (0, 12, 12, ascent, len(glyphs[c]) - ascent)) for c in codes))
    data = b""
    offsets = []
    for c in codes:
        offsets.append(len(data))
        for row in glyphs[c]:
            data += int(row.replace("#", "1").replace(".", "0").ljust(16, "0"), 2).to_bytes(2, "big")
    bitmaps = table(fmt, struct.pack(order + "i", len(codes)) + struct.pack(order + f"{len(codes)}i", *offsets)
                    + struct.pack(order + "4i", len(data), len(data), len(data), len(data)) + data)
    lo, hi = min(codes) >> 8, max(codes) >> 8
    index = [0xFFFF] * (256 * (hi - lo + 1))
    for i, c in enumerate(codes):
        index[((c >> 8) - lo) * 256 + (c & 0xFF)] = i
    encodings = table(fmt, struct.pack(order + "5h", 0, 255, lo, hi, 0) + struct.pack(order + f"{len(index)}H", *index))
    tables = [(1 << 8, accel), (1 << 2, metrics), (1 << 3, bitmaps), (1 << 5, encodings)]
    out = b"\x01fcp" + struct.pack("<I", len(tables))
    at = len(out) + 16 * len(tables)
    toc, body = b"", b""
    for kind, blob in tables:
        toc += struct.pack("<IIII", kind, blob[0], len(blob), at + len(body))
        body += blob
    return out + toc + body


_BOX = ["############", "#..........#", "#..........#", "############"]
_BAR = ["............", "#####.......", "............"]


@pytest.mark.parametrize("big_endian", [False, True])
def test_the_pcf_reader_reads_glyphs_metrics_and_encodings(tmp_path, big_endian):
    path = tmp_path / "small.pcf"
    path.write_bytes(_pcf({ord("口"): _BOX, ord("一"): _BAR}, big_endian))
    read = pcf.read(path)
    assert (read.ascent, read.descent) == (10, 2)
    assert read.glyphs[ord("口")].rows == tuple(_BOX)
    assert read.glyphs[ord("一")].rows == tuple(_BAR)
    assert read.glyphs[ord("口")].advance == 12


def test_a_glyph_file_built_from_a_font_places_each_glyph_on_the_baseline(tmp_path):
    path = tmp_path / "small.pcf"
    path.write_bytes(_pcf({ord("口"): _BOX}, big_endian=False, ascent=4, descent=0))
    built = font.GlyphFile.parse(font.build("口", path))
    pixels = built.pixels("口")
    assert pixels is not None
    rows = ["".join("#" if p else "." for p in row) for row in pixels]
    assert rows[7:11] == _BOX and not any("#" in row for row in rows[:7] + rows[11:])
    assert built.gb == ("口".encode("gb18030"),)


def test_a_character_the_font_lacks_is_refused_by_name(tmp_path):
    path = tmp_path / "small.pcf"
    path.write_bytes(_pcf({ord("口"): _BOX}, big_endian=False))
    with pytest.raises(SetupError, match="has no glyph for 退"):
        font.build("口退", path)


def test_without_the_font_the_build_says_what_to_install(tmp_path):
    with pytest.raises(SetupError, match="apt-get install xfonts-wqy"):
        font.build("退", tmp_path / "missing.pcf")


def test_a_character_with_no_two_byte_gb18030_code_is_refused():
    with pytest.raises(SetupError, match="no two-byte GB18030 code"):
        font.gb18030("😀")


def test_not_a_pcf_font_is_said_so(tmp_path):
    path = tmp_path / "x.pcf"
    path.write_bytes(b"not a font")
    with pytest.raises(SetupError, match="is not a PCF font"):
        pcf.read(Path(path))

