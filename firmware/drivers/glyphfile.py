"""中文 glyphs, read from the glyph file in flash one at a time.

The file (written by ``micropos font build``; its layout is in
host/micropos/font.py) holds exactly the characters the firmware's words
use: each one's code point, its GB18030 bytes for the printer's Chinese mode
and a 12 x 12 bitmap.  Only the glyph being drawn is in RAM: a binary search
over the sorted code points reads two bytes at a time, so the table never
sits in the heap.  A character the file lacks is drawn as an empty box
(a test on the host keeps that from happening).

Its names reuse names the firmware already has (``_file``, ``_buf``,
``_cell_fb``): every distinct name costs the heap a qstr for good.
"""
from micropython import const
import framebuf

_HEADER = const(8)
_CELL = const(12)
_BITMAP = const(24)  # 12 rows of 2 bytes, MONO_HLSB


class GlyphFile:
    def __init__(self):
        self._file = None
        self._count = 0
        self._buf = bytearray(_BITMAP)
        for path in ("/rom/glyphs_zh.bin", "glyphs_zh.bin"):  # the emulator's ROMFS, or a board's filesystem
            try:
                self._file = open(path, "rb")
            except OSError:
                continue
            head = memoryview(self._buf)[:_HEADER]
            self._file.readinto(head)
            if head[:4] == b"MPG1":
                self._count = head[6] | head[7] << 8
            break
        self._cell_fb = framebuf.FrameBuffer(self._buf, _CELL, _CELL, framebuf.MONO_HLSB)

    def _find(self, code):
        """The index of character ``code`` (a code point) in the file, or -1."""
        lo = 0
        hi = self._count - 1
        two = memoryview(self._buf)[:2]
        while lo <= hi:
            mid = (lo + hi) // 2
            self._file.seek(_HEADER + 2 * mid)
            self._file.readinto(two)
            found = two[0] | two[1] << 8
            if found == code:
                return mid
            if found < code:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def draw(self, display, code, at, top, ink):
        """Draws character ``code`` (a code point) at (at, top), ``ink`` on the other colour; returns its width.

        Code points, not 1-character strings: MicroPython interns every such
        string for good (a qstr each), which a screen of 中文 cannot afford.
        """
        i = self._find(code)
        if i < 0:
            display.fill_rect(at, top, _CELL, _CELL, 1 - ink)
            display.rect(at + 1, top + 1, _CELL - 2, _CELL - 2, ink)
            return _CELL
        buf = self._buf
        self._file.seek(_HEADER + 4 * self._count + _BITMAP * i)
        self._file.readinto(buf)
        if not ink:  # light on dark (the title): the glyph's pixels become the dark ones
            for j in range(_BITMAP):
                buf[j] ^= 0xFF
        display.blit(self._cell_fb, at, top, 1 - ink)  # the other colour is transparent: the row is cleared
        return _CELL

    def gb(self, code, out):
        """Puts the two GB18030 bytes of character ``code`` in ``out``; False when the file lacks it."""
        i = self._find(code)
        if i < 0:
            return False
        self._file.seek(_HEADER + 2 * self._count + 2 * i)
        self._file.readinto(out)
        return True
