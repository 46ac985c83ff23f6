"""SSD1306 OLED controller (128x64, I2C) as a framebuf.FrameBuffer.

The driver is handed a ready I2C bus and the chip's address; it never makes
its own bus.  The frame lives in RAM (MONO_VLSB: one byte is 8 pixels of a
column, 128 bytes a page of 8 rows), so drawing is framebuf's job and
``show(pages)`` sends only the pages named in the mask: a screen that changed
one line of text costs one 129-byte I2C write, not 1025.
"""
from micropython import const
import framebuf

# Command bytes from the SSD1306 datasheet (Solomon Systech, rev 1.1).
_DISPLAY_OFF = const(0xAE)
_DISPLAY_ON = const(0xAF)
_SET_MEM_ADDR_MODE = const(0x20)   # + 0x00 horizontal
_SET_COL_ADDR = const(0x21)        # + start, end
_SET_PAGE_ADDR = const(0x22)       # + start, end
_SET_START_LINE = const(0x40)
_SET_CONTRAST = const(0x81)
_SET_CHARGE_PUMP = const(0x8D)     # + 0x14 on (internal VCC)
_SEG_REMAP_127 = const(0xA1)       # column 127 is SEG0
_ENTIRE_ON_RAM = const(0xA4)       # show the RAM
_NORMAL_DISPLAY = const(0xA6)
_INVERT_DISPLAY = const(0xA7)
_SET_MUX_RATIO = const(0xA8)
_COM_SCAN_REMAP = const(0xC8)      # scan COM[N-1] to COM0
_SET_DISPLAY_OFFSET = const(0xD3)
_SET_CLOCK_DIV = const(0xD5)
_SET_PRECHARGE = const(0xD9)
_SET_COM_PINS = const(0xDA)
_SET_VCOM_DESELECT = const(0xDB)

_CONTROL_COMMAND = const(0x80)     # Co=1, D/C#=0: one command byte follows
_CONTROL_DATA = const(0x40)        # Co=0, D/C#=1: data bytes to the end

ALL_PAGES = const(0xFF)

# Power-on sequence for a 128x64 panel with the internal charge pump.
INIT_SEQUENCE = bytes((
    _DISPLAY_OFF,
    _SET_MEM_ADDR_MODE, 0x00,
    _SET_START_LINE | 0x00,
    _SEG_REMAP_127,
    _SET_MUX_RATIO, 63,
    _COM_SCAN_REMAP,
    _SET_DISPLAY_OFFSET, 0x00,
    _SET_COM_PINS, 0x12,
    _SET_CLOCK_DIV, 0x80,
    _SET_PRECHARGE, 0xF1,
    _SET_VCOM_DESELECT, 0x30,
    _SET_CONTRAST, 0xFF,
    _ENTIRE_ON_RAM,
    _NORMAL_DISPLAY,
    _SET_CHARGE_PUMP, 0x14,
    _DISPLAY_ON,
))


class SSD1306_I2C(framebuf.FrameBuffer):
    def __init__(self, i2c, addr=0x3C, width=128, height=64):
        self.i2c = i2c
        self.addr = addr
        self.width = width
        self.height = height
        self.pages = height // 8
        self.buffer = bytearray(self.pages * width)
        super().__init__(self.buffer, width, height, framebuf.MONO_VLSB)
        self._cmd = bytearray(2)
        self._cmd[0] = _CONTROL_COMMAND
        self._data_prefix = bytes((_CONTROL_DATA,))
        self._window = bytearray((_SET_COL_ADDR, 0, width - 1, _SET_PAGE_ADDR, 0, 0))
        self._pages_view = memoryview(self.buffer)
        self.init_display()

    def write_cmd(self, cmd):
        self._cmd[1] = cmd
        self.i2c.writeto(self.addr, self._cmd)

    def init_display(self):
        for cmd in INIT_SEQUENCE:
            self.write_cmd(cmd)
        self.fill(0)
        self.show()

    def poweroff(self):
        self.write_cmd(_DISPLAY_OFF)

    def poweron(self):
        self.write_cmd(_DISPLAY_ON)

    def contrast(self, value):
        self.write_cmd(_SET_CONTRAST)
        self.write_cmd(value)

    def invert(self, on):
        self.write_cmd(_INVERT_DISPLAY if on else _NORMAL_DISPLAY)

    def show(self, pages=ALL_PAGES):
        """Sends the pages whose bit is set in ``pages`` (bit 0 = top 8 rows)."""
        width = self.width
        window = self._window
        for page in range(self.pages):
            if not (pages >> page) & 1:
                continue
            window[4] = page
            window[5] = page
            for cmd in window:
                self.write_cmd(cmd)
            start = page * width
            self.i2c.writevto(self.addr, (self._data_prefix, self._pages_view[start:start + width]))
