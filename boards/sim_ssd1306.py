"""A simulated SSD1306 on a simulated I2C bus, for the emulator board.

It stands in for the chip, not the driver: the real ssd1306 driver talks to
it byte for byte, and it decodes those bytes as the chip would (control byte,
column/page address window, horizontal auto-increment), so what it holds in
``gddram`` is what a real panel would show.  It takes the driver's buffers
as they are, byte by byte, and allocates nothing per transfer, so the
emulator's heap sees what the board's does.
"""
from micropython import const

_CONTROL_DATA = const(0x40)
_CONTINUATION = const(0x80)
_TWO_BYTE_COMMANDS = b"\x20\x81\x8d\xa8\xd3\xd5\xd9\xda\xdb"  # opcodes with one argument
# Where the chip is within one I2C write: expecting a control byte, or taking
# data, one command byte, or command bytes to the end.
_CONTROL = const(0)
_DATA = const(1)
_ONE_COMMAND = const(2)
_COMMANDS = const(3)


def _command_length(op):
    """Bytes in the command that starts with ``op``: the opcode and its arguments."""
    if op == 0x21 or op == 0x22:
        return 3
    if op in _TWO_BYTE_COMMANDS:
        return 2
    return 1


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
        self._col_lo = 0
        self._col_hi = width - 1
        self._page_lo = 0
        self._page_hi = self.pages - 1
        self._col = 0
        self._page = 0
        self._pending = bytearray(3)  # a command still waiting for its arguments
        self._pending_len = 0
        self.start()

    def start(self):
        """An I2C write transaction to the chip begins: its first byte is a control byte."""
        self._state = _CONTROL

    def receive(self, part):
        """Bytes of the current transaction, in order (a transaction may come in parts)."""
        for byte in part:
            state = self._state
            if state == _DATA:
                self._data_byte(byte)
            elif state == _CONTROL:
                if byte & _CONTROL_DATA:
                    self._state = _DATA
                elif byte & _CONTINUATION:
                    self._state = _ONE_COMMAND  # one command byte, then a control byte again
                else:
                    self._state = _COMMANDS  # command bytes to the end of the transaction
            else:
                self._command_byte(byte)
                if state == _ONE_COMMAND:
                    self._state = _CONTROL

    def _command_byte(self, byte):
        pending = self._pending
        pending[self._pending_len] = byte
        self._pending_len += 1
        op = pending[0]
        if self._pending_len < _command_length(op):
            return
        self._pending_len = 0
        self.commands += 1
        if op == 0x21:
            self._col_lo = self._col = pending[1]
            self._col_hi = pending[2]
        elif op == 0x22:
            self._page_lo = self._page = pending[1]
            self._page_hi = pending[2]
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

    def _data_byte(self, byte):
        self.data_bytes += 1
        self.gddram[self._page * self.width + self._col] = byte
        if self._col < self._col_hi:
            self._col += 1
        else:
            self._col = self._col_lo
            self._page = self._page + 1 if self._page < self._page_hi else self._page_lo


class SimulatedI2C:
    """Just enough of machine.I2C for a driver: writeto and writevto to known devices."""

    def __init__(self, devices):
        self.devices = devices  # {address: device with start() and receive(bytes)}

    def _device(self, addr):
        device = self.devices.get(addr)
        if device is None:
            raise OSError(19)  # ENODEV: no ACK from that address, as machine.I2C reports
        return device

    def writeto(self, addr, buf, stop=True):
        device = self._device(addr)
        device.start()
        device.receive(buf)
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        device = self._device(addr)
        device.start()
        n = 0
        for part in vector:
            device.receive(part)
            n += len(part)
        return n

    def scan(self):
        return sorted(self.devices)
