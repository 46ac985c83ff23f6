"""The emulator's receipt printer: what a printer would get, and its text, in files beside the flash image.

``FILE.receipts.bin`` gets the ESC/POS bytes exactly as the board's printer
gets them (``escpos``; ``micropos receipt render`` draws them as paper),
``FILE.receipts.txt`` the same receipts as text, one after another.
"""
from escpos import EscPos


class ReceiptFile:
    def __init__(self, path):
        self._file = path + ".receipts.bin"
        self.path = path + ".receipts.txt"

    def print_receipt(self, lines):
        """``lines`` may be a generator (a long list is printed as it is made): read once, written to both."""
        with open(self._file, "ab") as f, open(self.path, "a") as text:
            EscPos(f).print_receipt(_write(lines, text))
            text.write("-" * 32 + "\n")


def _write(lines, text):
    for line in lines:
        text.write(line)
        text.write("\n")
        yield line
