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
        with open(self._file, "ab") as f:
            EscPos(f).print_receipt(lines)
        with open(self.path, "a") as f:
            for line in lines:
                f.write(line)
                f.write("\n")
            f.write("-" * 32 + "\n")
