"""The text layer: what the screen says, kept as text beside the pixels.

Screens hand it up to 8 rows of text; it draws only rows that changed,
sends only their pages to the display, and tells a listener (the host link)
the new text, so tests and scripts read the screen as words, not pixels.

Row geometry on the 128x64 panel, in both languages:
- a row of ASCII is 8 pixels high, the built-in 8x8 font: 8 such rows fill
  the panel, 16 characters across (up to 21 drawn condensed, 6 pixels a
  character: the font's glyphs keep their middle 6 columns);
- a row holding 中文 is 12 pixels high: each 中文 character is a 12 x 12
  glyph from the glyph file in flash (below), ASCII in it stays 8 pixels
  wide (6 when the row would not fit otherwise), so 10 中文 characters fill
  a row;
- blank rows are 8 pixels high while everything fits, and share what is
  left when it would not (a 中文 screen with its gaps closed up).
A row that does not fit across, or rows that do not fit down, are cut and
the row is kept in ``clipped`` (the host link reports it, and the tests
fail on it). Row 0 is the title, drawn inverted.

The glyph file (``micropos font build`` writes it; its layout is in
host/micropos/font.py) holds exactly the characters the firmware's words
use: each one's code point, its GB18030 bytes for the printer's Chinese mode
(``escpos`` asks ``gb``) and a 12 x 12 bitmap.  It is opened at the first
中文 character and read a glyph at a time: a binary search over the sorted
code points reads two bytes at a time, so no table sits in the heap.  A
character the file lacks is drawn as an empty box (a host test keeps that
from happening).  Characters go by code point, never as 1-character
strings: MicroPython interns every such string for good (a qstr each),
which a screen of 中文 cannot afford.  For the same reason the names here
reuse names the firmware already has.
"""
from micropython import const
import framebuf

_ROWS = const(8)
_LINE = const(8)  # an ASCII row, and the 8x8 font's cell
_TALL = const(12)  # a row with 中文, and a glyph's cell
_NARROW = const(6)  # a condensed ASCII character
_HEADER = const(8)  # the glyph file's: "MPG1", cell width, cell height, count (2 bytes)
_BITMAP = const(24)  # a glyph: 12 rows of 2 bytes, MONO_HLSB

_file = None  # the glyph file, once opened
_count = 0  # its characters
_buf = bytearray(_BITMAP)  # one glyph, and the search's reads
_cell_fb = framebuf.FrameBuffer(_buf, _TALL, _TALL, framebuf.MONO_HLSB)


def _find(code):
    """The index of character ``code`` (a code point) in the glyph file, or -1."""
    global _file, _count
    if _file is None:
        for path in ("/rom/glyphs_zh.bin", "glyphs_zh.bin"):  # the emulator's ROMFS, or a board's filesystem
            try:
                _file = open(path, "rb")
            except OSError:
                continue
            head = memoryview(_buf)[:_HEADER]
            _file.readinto(head)
            if head[:4] == b"MPG1":
                _count = head[6] | head[7] << 8
            break
    lo = 0
    hi = _count - 1
    two = memoryview(_buf)[:2]
    while lo <= hi:
        mid = (lo + hi) // 2
        _file.seek(_HEADER + 2 * mid)
        _file.readinto(two)
        found = two[0] | two[1] << 8
        if found == code:
            return mid
        if found < code:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def code_at(utf8, at):
    """The code point of the multi-byte UTF-8 character at ``utf8[at]`` (2 or 3 bytes: every one the
    glyph file holds is in the Basic Multilingual Plane); it ends at ``at + 2`` if ``utf8[at] < 0xE0``,
    else at ``at + 3``."""
    b = utf8[at]
    if b < 0xE0:
        return (b & 0x1F) << 6 | utf8[at + 1] & 0x3F
    return (b & 0x0F) << 12 | (utf8[at + 1] & 0x3F) << 6 | utf8[at + 2] & 0x3F


def draw(display, code, at, top, ink):
    """Draws character ``code`` at (at, top), ``ink`` on the other colour; returns its width."""
    i = _find(code)
    if i < 0:
        display.fill_rect(at, top, _TALL, _TALL, 1 - ink)
        display.rect(at + 1, top + 1, _TALL - 2, _TALL - 2, ink)
        return _TALL
    _file.seek(_HEADER + 4 * _count + _BITMAP * i)
    _file.readinto(_buf)
    if not ink:  # light on dark (the title): the glyph's pixels become the dark ones
        for j in range(_BITMAP):
            _buf[j] ^= 0xFF
    display.blit(_cell_fb, at, top, 1 - ink)  # the other colour is transparent: the row is cleared
    return _TALL


def gb(code, out):
    """Puts the two GB18030 bytes of character ``code`` in ``out``; False when the glyph file lacks it."""
    i = _find(code)
    if i < 0:
        return False
    _file.seek(_HEADER + 2 * _count + 2 * i)
    _file.readinto(out)
    return True


def wide(text):
    """How many characters of ``text`` are not ASCII (中文), counted on its UTF-8 bytes.

    A str is never walked character by character here: MicroPython interns
    every single character it hands out that way, for good (a qstr each).
    """
    n = 0
    for b in memoryview(text):
        if b >= 0xC0:  # the first byte of a multi-byte character
            n += 1
    return n


class TextScreen:
    def __init__(self, display, glyphs=None):
        self.display = display
        self.listener = None
        self.glyphs = glyphs  # what draws 中文, as ``draw`` below (the glyph file's) does, unless a test gives one
        self.clipped = None  # a row of the last screen shown that did not fit whole
        self.rows = [""] * _ROWS
        self._tops = bytearray(_ROWS + 1)  # each row's top pixel, then the bottom of the last
        self._cell = bytearray(_LINE)  # one glyph, for condensed rows
        self._cell_fb = framebuf.FrameBuffer(self._cell, _LINE, _LINE, framebuf.MONO_VLSB)
        self._forced = True

    def fits(self, rows):
        """Whether ``rows`` fit the panel whole, laid out as ``show`` lays them out."""
        width = self.display.width
        used = 0
        for text in rows:
            if text:
                tall = wide(text)
                used += _TALL if tall else _LINE
                if (len(text) - tall) * _NARROW + tall * _TALL > width:
                    return False
        return len(rows) <= _ROWS and used <= self.display.height

    def show(self, rows):
        """Shows ``rows`` (a sequence of str; missing rows are blank)."""
        fb = self.display
        count = len(rows)
        self.clipped = None
        if count > _ROWS:
            self.clipped = rows[_ROWS]
        # Lay the rows out: 中文 rows 12 high, ASCII rows 8, blank rows what is left (at most 8).
        used = 0
        blanks = 0
        for i in range(_ROWS):
            text = rows[i] if i < count else ""
            if text:
                used += _TALL if wide(text) else _LINE
            else:
                blanks += 1
        gap = _LINE
        if blanks and used + blanks * _LINE > fb.height:
            gap = (fb.height - used) // blanks if used < fb.height else 0
        tops = self._tops
        y = 0
        moved = False
        for i in range(_ROWS):
            top = y if y < fb.height else fb.height
            if tops[i] != top:
                tops[i] = top
                moved = True
            text = rows[i] if i < count else ""
            y += gap if not text else (_TALL if wide(text) else _LINE)
            if y > fb.height and text:
                self.clipped = text  # below the panel's bottom edge
        tops[_ROWS] = y if y < fb.height else fb.height
        if moved:
            fb.fill(0)
            self._forced = True
        pages = 0
        changed = self._forced
        for i in range(_ROWS):
            text = rows[i] if i < count else ""
            if text == self.rows[i] and not self._forced:
                continue
            changed = True
            top = tops[i]
            height = tops[i + 1] - top
            ink = 0 if i == 0 else 1
            if height:
                fb.fill_rect(0, top, fb.width, height, 1 - ink)
                text = self._draw_text(text, top, height, ink)
                pages |= ((1 << ((top + height + 7) // 8)) - 1) & ~((1 << (top // 8)) - 1)
            self.rows[i] = text
        if self._forced:
            # the title's inverted bar spans its row even when blank; below the last row stays dark
            pages = 0xFF
        self._forced = False
        if pages:
            fb.show(pages)
        if changed and self.listener is not None:
            self.listener(self.rows)

    def _draw_text(self, text, top, height, ink):
        """Draws one row; returns the text it drew (cut when it does not fit)."""
        fb = self.display
        width = fb.width
        y = top + (height - _LINE) // 2
        count = len(text)
        tall = wide(text)
        if not tall:
            if count * _LINE <= width:
                fb.text(text, 0, y, ink)
                return text
            if count * _NARROW > width:
                self.clipped = text
                text = text[:width // _NARROW]
            for i in range(len(text)):
                self._narrow(text[i:i + 1], i * _NARROW, y, ink)  # a slice: text[i] would intern it
            return text
        step = _LINE if tall * _TALL + (count - tall) * _LINE <= width else _NARROW
        glyphs = self.glyphs or draw
        utf8 = memoryview(text)
        x = 0
        at = 0  # byte offset in utf8
        for i in range(count):
            b = utf8[at]
            if x + (step if b < 0x80 else _TALL) > width:
                self.clipped = text
                return text[:i]
            if b < 0x80:
                if step == _LINE:
                    fb.text(text[i:i + 1], x, y, ink)
                else:
                    self._narrow(text[i:i + 1], x, y, ink)
                x += step
                at += 1
            else:
                x += glyphs(fb, code_at(utf8, at), x, top + (height - _TALL) // 2, ink)
                at += 2 if b < 0xE0 else 3
        return text

    def _narrow(self, text, at, top, ink):
        """One ASCII character condensed to 6 pixels at (at, top): the 8x8 glyph's middle columns."""
        cell = self._cell_fb
        cell.fill(1 - ink)
        cell.text(text, 0, 0, ink)
        self.display.blit(cell, at - 1, top, 1 - ink)
