"""The emulator's receipt printer: each receipt appended as text to a file beside the flash image."""


class ReceiptFile:
    def __init__(self, path):
        self.path = path

    def print_receipt(self, lines):
        with open(self.path, "a") as f:
            for line in lines:
                f.write(line)
                f.write("\n")
            f.write("-" * 32 + "\n")
