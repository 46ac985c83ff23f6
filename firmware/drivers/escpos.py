"""An ESC/POS thermal receipt printer on a UART (58 mm, 32 columns of font A)."""

_INIT = b"\x1b@"  # ESC @: reset the printer's modes
_FEED_AND_CUT = b"\x1bd\x04\x1dV\x01"  # ESC d 4: feed 4 lines; GS V 1: partial cut


class EscPos:
    def __init__(self, uart):
        self.uart = uart

    def print_receipt(self, lines):
        uart = self.uart
        uart.write(_INIT)
        for line in lines:
            uart.write(line.encode())
            uart.write(b"\n")
        uart.write(_FEED_AND_CUT)
