"""An ESC/POS thermal receipt printer (58 mm, 32 columns of font A), 中文 in its GB18030 mode.

A receipt goes out as the printer's bytes: ASCII as it is, and each run of
中文 between ``FS &`` and ``FS .`` (the printer's Chinese mode), each
character as its two GB18030 bytes, read from the glyph file
(``textscreen.gb``): the board carries no code table of its own.  ``stream``
is anything with ``write``: the board's UART, or the emulator's file.
"""
from textscreen import code_at, gb

# The commands are written where they are sent, as literals (a named one would cost a qstr):
# ESC @ resets the printer's modes; FS & and FS . turn its Chinese mode on and off; ESC d 4 feeds
# 4 lines and GS V 1 cuts; A1 F5 is GB18030's hollow square, for a character the glyph file lacks.


class EscPos:
    def __init__(self, stream):
        self._file = stream
        self._buf = bytearray(2)

    def print_receipt(self, lines):
        """Each line's bytes, read from its UTF-8: never character by character (each would be interned)."""
        out = self._file
        out.write(b"\x1b@")
        for line in lines:
            utf8 = memoryview(line)  # pyright: ignore[reportArgumentType] - MicroPython lends a str's bytes
            count = len(utf8)
            at = 0
            while at < count:
                start = at
                while at < count and utf8[at] < 0x80:
                    at += 1
                if at > start:
                    out.write(utf8[start:at])
                if at == count:
                    break
                out.write(b"\x1c&")
                while at < count and utf8[at] >= 0x80:
                    out.write(self._buf if gb(code_at(utf8, at), self._buf) else b"\xa1\xf5")
                    at += 2 if utf8[at] < 0xE0 else 3
                out.write(b"\x1c.")
            out.write(b"\n")
        out.write(b"\x1bd\x04\x1dV\x01")
