"""The receipt renderer against ESC/POS byte streams built here, as the firmware writes them."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from micropos import receipt_render as rr
from micropos.errors import MicroposError
from micropos.font import GlyphFile

INIT = b"\x1b@"
CUT = b"\x1dV\x01"
FEED_AND_CUT = b"\x1bd\x04\x1dV\x01"  # what firmware/drivers/escpos.py ends a receipt with
ZH_ON, ZH_OFF = b"\x1c&", b"\x1c."
CENTRE, RIGHT = b"\x1ba\x01", b"\x1ba\x02"
DOUBLE_HEIGHT, DOUBLE_WIDTH, EMPHASISED = b"\x1b!\x10", b"\x1b!\x20", b"\x1b!\x08"
ZH = "退"  # in the terminal's glyph file: its words use it


def one(data: bytes) -> Image.Image:
    images = rr.render(data)
    assert len(images) == 1
    return images[0]


def ink(image: Image.Image) -> list[list[bool]]:
    gray = image.convert("L")
    data = gray.tobytes()
    return [[data[y * gray.width + x] < 128 for x in range(gray.width)] for y in range(gray.height)]


def ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    box = image.convert("L").point(lambda v: 255 - v).getbbox()
    assert box is not None, "no ink at all"
    return box


def ink_bands(image: Image.Image) -> list[tuple[int, int]]:
    """The runs of rows holding ink, as (first, last + 1)."""
    bands: list[tuple[int, int]] = []
    for y, row in enumerate(ink(image)):
        if any(row):
            if bands and bands[-1][1] == y:
                bands[-1] = (bands[-1][0], y + 1)
            else:
                bands.append((y, y + 1))
    return bands


def test_two_receipts_give_two_pngs_384_wide(tmp_path: Path) -> None:
    path = tmp_path / "demo.receipts.bin"
    path.write_bytes(INIT + b"SALE\n" + FEED_AND_CUT + INIT + b"REFUND\nTOTAL 12.34\n" + FEED_AND_CUT + INIT)

    written = rr.render_file(path)

    assert written == [tmp_path / "demo.receipt-01.png", tmp_path / "demo.receipt-02.png"]
    images = [Image.open(p) for p in written]
    assert [im.width for im in images] == [rr.PAPER_DOTS, rr.PAPER_DOTS]
    assert [len(ink_bands(im)) for im in images] == [1, 2]
    assert images[0].height == 5 * rr.LINE_DOTS  # the line, then ESC d 4
    assert images[1].height == 6 * rr.LINE_DOTS


def test_out_dir_takes_the_pngs(tmp_path: Path) -> None:
    path = tmp_path / "demo.receipts.bin"
    path.write_bytes(INIT + b"SALE\n" + CUT)

    written = rr.render_file(path, tmp_path / "out" / "pngs")

    assert written == [tmp_path / "out" / "pngs" / "demo.receipt-01.png"]
    assert written[0].exists()
    assert not (tmp_path / "demo.receipt-01.png").exists()


def test_32_characters_fill_the_line_and_a_33rd_wraps() -> None:
    full = one(INIT + b"H" * rr.COLUMNS + b"\n" + CUT)
    wrapped = one(INIT + b"H" * (rr.COLUMNS + 1) + b"\n" + CUT)

    left, _, right, _ = ink_box(full)
    assert left < rr.ASCII_DOTS[0] and right > rr.PAPER_DOTS - rr.ASCII_DOTS[0]
    assert len(ink_bands(full)) == 1
    bands = ink_bands(wrapped)
    assert len(bands) == 2
    assert bands[1][0] >= rr.LINE_DOTS
    assert wrapped.height == full.height + rr.LINE_DOTS
    second_line = wrapped.crop((0, rr.LINE_DOTS, rr.PAPER_DOTS, 2 * rr.LINE_DOTS))
    assert ink_box(second_line)[2] <= rr.ASCII_DOTS[0]  # the 33rd alone, in the first column


def test_chinese_glyph_is_the_glyph_file_bitmap_scaled_2x() -> None:
    glyphs = GlyphFile.load()
    assert ZH in glyphs.characters()
    rows = glyphs.pixels(ZH)
    assert rows is not None and any(any(row) for row in rows)

    image = one(INIT + b"AB" + ZH_ON + ZH.encode("gb18030") + ZH_OFF + b"\n" + CUT)

    x0 = 2 * rr.ASCII_DOTS[0]  # after two ASCII characters
    dots = ink(image)
    drawn = [row[x0:x0 + 24] for row in dots[:24]]
    assert drawn == [[rows[y // 2][x // 2] for x in range(24)] for y in range(24)]


def test_ascii_in_chinese_mode_is_still_12_dots_wide() -> None:
    plain = one(INIT + b"A\n" + CUT)
    mixed = one(INIT + ZH_ON + ZH.encode("gb18030") + b"A\n" + CUT)

    a_plain = [row[:12] for row in ink(plain)]
    a_mixed = [row[24:36] for row in ink(mixed)]
    assert any(any(row) for row in a_plain)
    assert a_mixed == a_plain
    assert not any(any(row[36:]) for row in ink(mixed))


def test_a_character_without_a_glyph_is_a_box() -> None:
    missing = "龍"
    assert missing not in GlyphFile.load().characters()

    dots = ink(one(INIT + ZH_ON + missing.encode("gb18030") + b"\n" + CUT))

    assert all(dots[2][2:22]) and all(dots[21][2:22])  # top and bottom edges
    assert all(dots[y][2] and dots[y][21] for y in range(2, 22))  # the sides
    assert not any(any(row[4:20]) for row in dots[4:20])  # empty inside


def test_centred_text_is_centred() -> None:
    text = b"ABCD\n"  # 4 x 12 = 48 dots
    left = ink_box(one(INIT + text + CUT))
    centred = ink_box(one(INIT + CENTRE + text + CUT))
    right = ink_box(one(INIT + RIGHT + text + CUT))

    shift = (rr.PAPER_DOTS - 48) // 2
    assert centred == (left[0] + shift, left[1], left[2] + shift, left[3])
    assert right == (left[0] + 2 * shift, left[1], left[2] + 2 * shift, left[3])


def test_double_height_makes_a_taller_line() -> None:
    normal = one(INIT + b"HELLO\n" + CUT)
    tall = one(INIT + DOUBLE_HEIGHT + b"HELLO\n" + CUT)

    assert tall.width == normal.width == rr.PAPER_DOTS
    assert tall.height == normal.height + rr.ASCII_DOTS[1]
    n_left, n_top, n_right, n_bottom = ink_box(normal)
    t_left, t_top, t_right, t_bottom = ink_box(tall)
    assert (t_left, t_right) == (n_left, n_right)
    assert t_bottom - t_top == 2 * (n_bottom - n_top)


def test_double_width_and_emphasised() -> None:
    normal = ink_box(one(INIT + b"HELLO\n" + CUT))
    wide = ink_box(one(INIT + DOUBLE_WIDTH + b"HELLO\n" + CUT))
    bold = one(INIT + EMPHASISED + b"HELLO\n" + CUT)

    assert wide[2] - wide[0] == 2 * (normal[2] - normal[0])
    assert ink_box(bold)[2] == normal[2] + 1
    assert sum(map(sum, ink(bold))) > sum(map(sum, ink(one(INIT + b"HELLO\n" + CUT))))


def test_unknown_command_gives_its_offset() -> None:
    with pytest.raises(MicroposError, match=r"^receipts\.bin: unknown command 1B 70 at byte 4$"):
        rr.render(INIT + b"AB" + b"\x1bp\x00\x19\xfa" + CUT)


def test_unknown_command_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.receipts.bin"
    path.write_bytes(INIT + b"\n" * 10 + b"\x1dL\x00\x00")

    with pytest.raises(MicroposError, match=r"demo\.receipts\.bin: unknown command 1D 4C at byte 12$"):
        rr.render_file(path)
    assert not list(tmp_path.glob("*.png"))


def test_gb_byte_outside_chinese_mode_is_an_error() -> None:
    code = ZH.encode("gb18030")
    with pytest.raises(MicroposError, match=rf"GB18030 byte {code[0]:02X} outside Chinese mode .* at byte 3$"):
        rr.render(INIT + b"A" + code + b"\n" + CUT)
    # the same bytes after FS & print
    assert len(rr.render(INIT + b"A" + ZH_ON + code + b"\n" + CUT)) == 1


@pytest.mark.parametrize(("data", "message"), [
    (INIT + b"\x1ba\x03", r"justification 1B 61 03 \(not 0, 1 or 2\) at byte 2$"),
    (INIT + b"\x1dV\x02", r"cut 1D 56 02 .* at byte 2$"),
    (INIT + b"A\r\n", r"unknown byte 0D at byte 3$"),
    (INIT + ZH_ON + b"\x81\x7f", r"GB18030 pair 81 7F .* at byte 4$"),
    (INIT + ZH_ON + b"\xcd\x30\x81\x30", r"GB18030 pair CD 30 .* at byte 4$"),  # a four-byte code
])
def test_bytes_the_firmware_never_writes_are_errors(data: bytes, message: str) -> None:
    with pytest.raises(MicroposError, match=message):
        rr.render(data + b"\n" + CUT)


def test_stream_without_final_cut_still_renders(tmp_path: Path) -> None:
    path = tmp_path / "cut-off.receipts.bin"
    path.write_bytes(INIT + b"SALE\n" + CUT + INIT + b"APPROVED\nTOTAL" + b"\x1b")  # power gone mid-command

    written = rr.render_file(path)

    assert [p.name for p in written] == ["cut-off.receipt-01.png", "cut-off.receipt-02.png"]
    last = Image.open(written[1])
    assert len(ink_bands(last)) == 2  # the unfinished line is drawn too
    assert last.height == 2 * rr.LINE_DOTS


def test_nothing_printed_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.receipts.bin"
    path.write_bytes(INIT + b"\n\n" + CUT + INIT)

    with pytest.raises(MicroposError, match="no receipt"):
        rr.render_file(path)
