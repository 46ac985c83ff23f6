"""Receipts as PNGs: the ESC/POS bytes the terminal sent its printer, drawn as the printer would print them.

The emulator saves the printer's raw bytes as ``NAME.receipts.bin``; this
module draws each receipt in it, black ink on white paper, one dot a pixel:
384 dots wide (58 mm paper), as long as the receipt.

The stream is read exactly as the firmware writes it; anything else is an error
naming the byte and its offset::

    1B 40          ESC @     initialise (all modes off) and start a receipt
    20..7E                   an ASCII character, font A: 12 x 24 dots, 32 to a line, a 33rd wraps
    0A             LF        print the line and move down one line (LINE_DOTS)
    1C 26 / 1C 2E  FS & / .  enter / leave Chinese mode
    81..FE 40..FE            in Chinese mode: a GB18030 character (second byte not 7F), 24 x 24 dots
    1B 61 n        ESC a n   justify the following lines: 0 left, 1 centre, 2 right
    1B 21 n        ESC ! n   print mode: 10 double height, 20 double width, 08 emphasised; other bits ignored
    1B 64 n        ESC d n   print the line, if any, and feed n lines
    1D 56 m        GS V m    cut (m 0 full, 1 partial): ends the receipt
    1D 56 m n      GS V m n  m 41 or 42: feed n dots, then cut

中文 glyphs come from the terminal's glyph file (``micropos.font``), scaled
2x; a character the file lacks is drawn as a box.  ASCII comes from Pillow's
built-in bitmap font, scaled 2x, so no font file is needed.  A receipt ends at
a cut, or at an ``ESC @`` once something is printed, or where the stream ends
(a power cut); a line not yet ended by LF is drawn too, so that nothing the
terminal sent is hidden.  A receipt with nothing printed on it (the bytes
after the last cut, say) is not drawn, and a command cut off by the end of
the stream is ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from micropos.errors import MicroposError, SetupError
from micropos.font import GlyphFile

PAPER_DOTS = 384  # 58 mm paper at 8 dots a millimetre
COLUMNS = 32  # font A characters to a line
ASCII_DOTS = (12, 24)  # font A cell, width x height
ZH_DOTS = (24, 24)  # a Chinese character, two columns wide
LINE_DOTS = 30  # one line: a 24-dot character and a 6-dot gap
LINE_GAP = LINE_DOTS - ASCII_DOTS[1]

ESC, FS, GS, LF = 0x1B, 0x1C, 0x1D, 0x0A
DOUBLE_HEIGHT, DOUBLE_WIDTH, EMPHASISED = 0x10, 0x20, 0x08
LEFT, CENTRE, RIGHT = 0, 1, 2
INK, PAPER = 0, 255  # pixel values of a mode "1" image

_ASCII_SOURCE = (6, 12)  # Pillow's built-in font cell, drawn 2x


@dataclass
class _Line:
    justify: int
    width: int = 0
    glyphs: list[tuple[int, Image.Image, bool]] = field(default_factory=list)  # x, mask, emphasised

    @property
    def height(self) -> int:
        return max((mask.height for _, mask, _ in self.glyphs), default=0)


@dataclass
class _Receipt:
    bands: list[tuple[int, _Line | None]] = field(default_factory=list)  # height in dots, a printed line or a feed
    printed: bool = False

    def draw(self) -> Image.Image:
        image = Image.new("1", (PAPER_DOTS, sum(height for height, _ in self.bands)), PAPER)
        top = 0
        for height, line in self.bands:
            if line is not None:
                left = {LEFT: 0, CENTRE: (PAPER_DOTS - line.width) // 2, RIGHT: PAPER_DOTS - line.width}[line.justify]
                baseline = top + line.height  # the characters of a line stand on one baseline
                for x, mask, emphasised in line.glyphs:
                    y = baseline - mask.height
                    image.paste(INK, (left + x, y), mask)
                    if emphasised:
                        image.paste(INK, (left + x + 1, y), mask)
            top += height
        return image


class _Glyphs:
    """The character masks (mode "1", 255 for ink) at each print size, made once each."""

    def __init__(self, zh: GlyphFile | None) -> None:
        self._zh = zh
        self._font = ImageFont.load_default_imagefont()
        self._masks: dict[tuple[str, int, int], Image.Image] = {}

    def mask(self, ch: str, wide: int, tall: int) -> Image.Image:
        key = (ch, wide, tall)
        if key not in self._masks:
            base, (width, height) = (self._ascii(ch), ASCII_DOTS) if ch.isascii() else (self._chinese(ch), ZH_DOTS)
            self._masks[key] = base.resize((width * wide, height * tall), Image.Resampling.NEAREST)
        return self._masks[key]

    def _ascii(self, ch: str) -> Image.Image:
        cell = Image.new("1", _ASCII_SOURCE, 0)
        ImageDraw.Draw(cell).text((0, 0), ch, font=self._font, fill=255)
        return cell

    def _chinese(self, ch: str) -> Image.Image:
        if self._zh is None:
            self._zh = GlyphFile.load()
        rows = self._zh.pixels(ch)
        size = (self._zh.width, self._zh.height)
        if rows is None:  # a box, inset a pixel so that boxes side by side stay apart
            w, h = size
            rows = [[0 < x < w - 1 and 0 < y < h - 1 and (x in (1, w - 2) or y in (1, h - 2)) for x in range(w)]
                    for y in range(h)]
        cell = Image.new("1", size, 0)
        cell.putdata([255 if dot else 0 for row in rows for dot in row])
        return cell


class _Printer:
    """Reads the byte stream as the printer would, into receipts of lines and feeds."""

    def __init__(self, data: bytes, source: str, glyphs: _Glyphs) -> None:
        self.data = data
        self.source = source
        self.glyphs = glyphs
        self.receipts: list[_Receipt] = []
        self.receipt = _Receipt()
        self._initialise()

    def _initialise(self) -> None:
        self.chinese = False
        self.justify = LEFT
        self.mode = 0
        self.line = _Line(LEFT)

    def _fail(self, what: str, at: int) -> MicroposError:
        return MicroposError(f"{self.source}: {what} at byte {at}")

    def run(self) -> list[_Receipt]:
        data, i = self.data, 0
        while i < len(data):
            b = data[i]
            if 0x20 <= b <= 0x7E:
                self._put(chr(b))
                i += 1
            elif b == LF:
                self._print_line()
                i += 1
            elif b in (ESC, FS, GS):
                step = self._command(i)
                if step == 0:
                    break  # cut off by the end of the stream
                i += step
            elif 0x81 <= b <= 0xFE:
                if not self.chinese:
                    raise self._fail(f"GB18030 byte {b:02X} outside Chinese mode (no FS & before it)", i)
                if i + 1 == len(data):
                    break
                second = data[i + 1]
                if not 0x40 <= second <= 0xFE or second == 0x7F:
                    raise self._fail(f"GB18030 pair {b:02X} {second:02X} (second byte not 40..FE, or 7F)", i)
                self._put(data[i:i + 2].decode("gb18030"))
                i += 2
            else:
                raise self._fail(f"unknown byte {b:02X}", i)
        self._end_receipt()
        return self.receipts

    def _command(self, i: int) -> int:
        """Carries out the command at ``i``; its length, or 0 when the stream ends inside it."""
        data = self.data
        if i + 1 == len(data):
            return 0
        prefix, cmd = data[i], data[i + 1]
        arg = data[i + 2] if i + 2 < len(data) else None
        name = f"{prefix:02X} {cmd:02X}"
        if prefix == FS and cmd in (0x26, 0x2E):  # FS & / FS .
            self.chinese = cmd == 0x26
            return 2
        if prefix == ESC and cmd == 0x40:  # ESC @
            if self.receipt.printed or self.line.glyphs:
                self._end_receipt()
            self._initialise()
            return 2
        if (prefix, cmd) not in ((ESC, 0x61), (ESC, 0x21), (ESC, 0x64), (GS, 0x56)):
            raise self._fail(f"unknown command {name}", i)
        if arg is None:
            return 0
        if cmd == 0x61:  # ESC a n
            if arg not in (LEFT, CENTRE, RIGHT):
                raise self._fail(f"justification {name} {arg:02X} (not 0, 1 or 2)", i)
            self.justify = arg
        elif cmd == 0x21:  # ESC ! n
            self.mode = arg
        elif cmd == 0x64:  # ESC d n: the line, if any, is the first of the n
            if self.line.glyphs:
                self._print_line()
                arg = max(arg - 1, 0)
            self.receipt.bands += [(LINE_DOTS, None)] * arg
        elif arg in (0, 1):  # GS V m
            self._cut(0)
        elif arg in (0x41, 0x42):  # GS V m n
            if i + 3 == len(data):
                return 0
            self._cut(data[i + 3])
            return 4
        else:
            raise self._fail(f"cut {name} {arg:02X} (not 00, 01, 41 or 42)", i)
        return 3

    def _put(self, ch: str) -> None:
        wide = 2 if self.mode & DOUBLE_WIDTH else 1
        tall = 2 if self.mode & DOUBLE_HEIGHT else 1
        mask = self.glyphs.mask(ch, wide, tall)
        if self.line.width + mask.width > PAPER_DOTS:
            self._print_line()  # wraps, as the printer does
        if not self.line.glyphs:
            self.line.justify = self.justify
        self.line.glyphs.append((self.line.width, mask, bool(self.mode & EMPHASISED)))
        self.line.width += mask.width

    def _print_line(self) -> None:
        line = self.line
        if line.glyphs:
            self.receipt.bands.append((max(LINE_DOTS, line.height + LINE_GAP), line))
            self.receipt.printed = True
        else:
            self.receipt.bands.append((LINE_DOTS, None))
        self.line = _Line(self.justify)

    def _cut(self, feed: int) -> None:
        if self.line.glyphs:
            self._print_line()
        if feed:
            self.receipt.bands.append((feed, None))
        self._end_receipt()

    def _end_receipt(self) -> None:
        if self.line.glyphs:
            self._print_line()
        if self.receipt.printed:
            self.receipts.append(self.receipt)
        self.receipt = _Receipt()
        self.line = _Line(self.justify)


def render(data: bytes, source: str = "receipts.bin", glyphs: GlyphFile | None = None) -> list[Image.Image]:
    """Each receipt in the printer's byte stream as a mode "1" image, PAPER_DOTS wide.

    ``source`` names the stream in errors; ``glyphs`` defaults to the
    committed glyph file, read only if the stream holds 中文.

    Raises:
        MicroposError: a byte the printer's stream cannot hold, with its offset.
        SetupError: the stream holds 中文 and the glyph file cannot be read.
    """
    return [receipt.draw() for receipt in _Printer(data, source, _Glyphs(glyphs)).run()]


def png_path(path: Path, number: int, out_dir: Path | None = None) -> Path:
    """Where receipt ``number`` (from 1) of ``NAME.receipts.bin`` is drawn: ``NAME.receipt-01.png``."""
    name = path.name.removesuffix(".receipts.bin") if path.name.endswith(".receipts.bin") else path.stem
    return (path.parent if out_dir is None else out_dir) / f"{name}.receipt-{number:02d}.png"


def render_file(path: Path, out_dir: Path | None = None) -> list[Path]:
    """Draws each receipt of ``path`` as a PNG, beside it unless ``out_dir`` is given; the PNGs written.

    Raises:
        SetupError: ``path`` cannot be read.
        MicroposError: the stream is not what the firmware writes, or holds no receipt.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SetupError(f"cannot read the receipts file {path}: {exc.strerror}") from exc
    images = render(data, str(path))
    if not images:
        raise MicroposError(f"{path}: no receipt in it ({len(data)} bytes, nothing printed)")
    written = []
    for number, image in enumerate(images, 1):
        out = png_path(path, number, out_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out)
        written.append(out)
    return written
