"""The text layer: what the screen says, kept as text beside the pixels.

Screens hand it rows of text; it draws only rows that changed, sends only
their pages to the display, and tells a listener (the host link) the new
text, so tests and scripts read the screen as words, not pixels.

Row geometry: with the built-in 8x8 font a 128x64 panel holds 8 rows of 16
characters.  For 中文 a 16x16 glyph font gives 4 rows of 8 characters: rows
are then 16 pixels (two pages) high and wide characters take two cells; the
``glyphs`` object (anything with ``draw(fb, char, x, y) -> width``) supplies
them.  Row 0 is the title, drawn inverted.
"""
from micropython import const

_ASCII_CELL = const(8)


class TextScreen:
    def __init__(self, display, row_height=8, glyphs=None):
        self.display = display
        self.listener = None
        self.glyphs = glyphs
        self.set_row_height(row_height)

    def set_row_height(self, row_height):
        self.row_height = row_height
        self.row_count = self.display.height // row_height
        self.columns = self.display.width // _ASCII_CELL
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
        if glyphs is None or self._is_ascii(text):
            fb.text(text, 0, y + (self.row_height - _ASCII_CELL) // 2, ink)
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
