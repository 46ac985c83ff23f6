"""A simulated SSD1306 on a simulated I2C bus, for the emulator board.

It stands in for the chip, not the driver: the real ssd1306 driver talks to
it byte for byte, and it decodes those bytes as the chip would (control byte,
column/page address window, horizontal auto-increment), so what it holds in
``gddram`` is what a real panel would show.
"""
from micropython import const

_CONTROL_DATA = const(0x40)
_CONTINUATION = const(0x80)


class SimulatedSSD1306:
    def __init__(self, width=128, height=64):
        self.width = width
        self.pages = height // 8
        self.gddram = bytearray(width * self.pages)
        self.on = False
        self.inverted = False
        self.contrast = 0x7F
        self.commands = 0
        self.data_bytes = 0
        self._col_window = (0, width - 1)
        self._page_window = (0, self.pages - 1)
        self._col = 0
        self._page = 0
        self._pending = bytearray()  # a command still waiting for its arguments

    def receive(self, payload):
        """One I2C write transaction addressed to the chip."""
        i = 0
        n = len(payload)
        while i < n:
            control = payload[i]
            i += 1
            if control & _CONTROL_DATA:
                self._data(payload, i, n)
                return
            if i < n:
                self._command_byte(payload[i])
                i += 1
            if not control & _CONTINUATION:
                while i < n:  # Co=0: the rest are command bytes
                    self._command_byte(payload[i])
                    i += 1

    def _command_byte(self, byte):
        pending = self._pending
        pending.append(byte)
        op = pending[0]
        need = {0x20: 2, 0x21: 3, 0x22: 3, 0x81: 2, 0x8D: 2, 0xA8: 2, 0xD3: 2,
                0xD5: 2, 0xD9: 2, 0xDA: 2, 0xDB: 2}.get(op, 1)
        if len(pending) < need:
            return
        self.commands += 1
        if op == 0x21:
            self._col_window = (pending[1], pending[2])
            self._col = pending[1]
        elif op == 0x22:
            self._page_window = (pending[1], pending[2])
            self._page = pending[1]
        elif op == 0x81:
            self.contrast = pending[1]
        elif op == 0xAE:
            self.on = False
        elif op == 0xAF:
            self.on = True
        elif op == 0xA6:
            self.inverted = False
        elif op == 0xA7:
            self.inverted = True
        self._pending = bytearray()

    def _data(self, payload, i, n):
        self.data_bytes += n - i
        for k in range(i, n):
            self.gddram[self._page * self.width + self._col] = payload[k]
            if self._col < self._col_window[1]:
                self._col += 1
            else:
                self._col = self._col_window[0]
                self._page = self._page + 1 if self._page < self._page_window[1] else self._page_window[0]


class SimulatedI2C:
    """Just enough of machine.I2C for a driver: writeto and writevto to known devices."""

    def __init__(self, devices):
        self.devices = devices  # {address: device with receive(bytes)}

    def _device(self, addr):
        device = self.devices.get(addr)
        if device is None:
            raise OSError(19)  # ENODEV: no ACK from that address, as machine.I2C reports
        return device

    def writeto(self, addr, buf, stop=True):
        self._device(addr).receive(bytes(buf))
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        joined = b"".join(bytes(part) for part in vector)
        self._device(addr).receive(joined)
        return len(joined)

    def scan(self):
        return sorted(self.devices)
