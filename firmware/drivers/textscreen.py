"""The text layer: what the screen says, kept as text beside the pixels.

Screens hand it rows of text; it draws only rows that changed, sends only
their pages to the display, and tells a listener (the host link) the new
text, so tests and scripts read the screen as words, not pixels.

Row geometry: with the built-in 8x8 font a 128x64 panel holds 8 rows of 16
characters.  For 中文 a 16x16 glyph font gives 4 rows of 8 characters: rows
are then 16 pixels (two pages) high and wide characters take two cells; the
``glyphs`` object (anything with ``draw(fb, char, x, y) -> width``) supplies
them.  Row 0 is the title, drawn inverted.  An ASCII row longer than 16 characters
(up to 21, e.g. "ORIGINAL NOT FOUND") is drawn condensed, 6 pixels a
character: the font's glyphs use only their middle 6 columns.
"""
from micropython import const
import framebuf

_ASCII_CELL = const(8)
_NARROW_CELL = const(6)


class TextScreen:
    def __init__(self, display, row_height=8, glyphs=None):
        self.display = display
        self.listener = None
        self.glyphs = glyphs
        self._cell = bytearray(_ASCII_CELL)  # one glyph, for condensed rows
        self._cell_fb = framebuf.FrameBuffer(self._cell, _ASCII_CELL, _ASCII_CELL, framebuf.MONO_VLSB)
        self.set_row_height(row_height)

    def set_row_height(self, row_height):
        self.row_height = row_height
        self.row_count = self.display.height // row_height
        self.columns = self.display.width // _NARROW_CELL
        self.rows = [""] * self.row_count
        self._forced = True

    def show(self, rows):
        """Shows ``rows`` (a sequence of str; missing rows are blank)."""
        fb = self.display
        height = self.row_height
        pages = 0
        changed = self._forced
        for i in range(self.row_count):
            text = rows[i] if i < len(rows) else ""
            if len(text) > self.columns:
                text = text[:self.columns]
            if text == self.rows[i] and not self._forced:
                continue
            self.rows[i] = text
            changed = True
            y = i * height
            ink = 0 if i == 0 else 1
            fb.fill_rect(0, y, fb.width, height, 1 - ink)
            self._draw_text(text, y, ink)
            pages |= ((1 << (height // 8)) - 1) << (y // 8)
        self._forced = False
        if pages:
            fb.show(pages)
        if changed and self.listener is not None:
            self.listener(self.rows)

    def redraw(self):
        """Draws every row again (after the panel was reset or the font changed)."""
        rows = self.rows
        self.rows = [""] * self.row_count
        self._forced = True
        self.show(rows)

    def _draw_text(self, text, y, ink):
        fb = self.display
        glyphs = self.glyphs
        top = y + (self.row_height - _ASCII_CELL) // 2
        ascii_only = glyphs is None or self._is_ascii(text)
        if ascii_only and len(text) * _ASCII_CELL <= fb.width:
            fb.text(text, 0, top, ink)
            return
        if ascii_only:
            cell = self._cell_fb
            for i in range(len(text)):
                cell.fill(1 - ink)
                cell.text(text[i], 0, 0, ink)
                fb.blit(cell, i * _NARROW_CELL - 1, top, 1 - ink)
            return
        x = 0
        for ch in text:
            if ord(ch) < 128:
                fb.text(ch, x, y + (self.row_height - _ASCII_CELL) // 2, ink)
                x += _ASCII_CELL
            else:
                x += glyphs.draw(fb, ch, x, y, ink)

    @staticmethod
    def _is_ascii(text):
        for ch in text:
            if ord(ch) >= 128:
                return False
        return True

    def text(self):
        """The screen as one string, rows joined by newlines."""
        return "\n".join(self.rows)
