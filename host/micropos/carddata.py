"""Card data on the host: the one Luhn check, and masking for everything the host writes.

Outside the acquirer's ledger, no file the host writes may hold a full PAN,
an expiry or track data (design: "Security"). What the host logs comes from
the terminal, and a screen may show a PAN while it is keyed in, so every
log line passes through ``mask`` first: a run of 12 to 19 digits that passes
the Luhn check keeps its first 6 and last 4 digits, and an expiry or the
rest of a track after it (``=2812...``) is dropped.
"""
from __future__ import annotations

import os
import re

_PAN = re.compile(rb"(?<![0-9])([0-9]{12,19})(=[0-9]*)?(?![0-9])")


def luhn_ok(pan: str) -> bool:
    """Whether a PAN's last digit is its Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(pan)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def masked(pan: str) -> str:
    """First 6 and last 4 digits, the middle as ``*``, as receipts print a card."""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _mask_match(match: re.Match[bytes]) -> bytes:
    digits = match.group(1)
    if not luhn_ok(digits.decode()):
        return match.group(0)
    return masked(digits.decode()).encode()


def mask(data: bytes) -> bytes:
    """``data`` with every PAN masked and what follows a PAN's ``=`` (expiry, track) dropped."""
    return _PAN.sub(_mask_match, data)


class DeviceLog:
    """An append-only log of a terminal's link, card data masked, rotated at a bounded size.

    Lines are written whole (a PAN is never split across two writes, so it
    is always seen whole by ``mask``). Past ``max_bytes`` the file becomes
    ``NAME.1`` (the one before that ``NAME.2``...), keeping ``backups`` of them.
    """

    def __init__(self, path: str, max_bytes: int = 1 << 20, backups: int = 2) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._file = open(path, "ab")  # noqa: SIM115 - open for the log's whole life, closed by close()
        self._partial = b""

    def write_lines(self, data: bytes) -> None:
        """Appends ``data``; a trailing partial line waits for the rest of it."""
        data = self._partial + data
        end = data.rfind(b"\n") + 1
        self._partial = data[end:]
        if end:
            self._write(data[:end])

    def close(self) -> None:
        if self._partial:
            self._write(self._partial + b"\n")
            self._partial = b""
        self._file.close()

    def _write(self, data: bytes) -> None:
        self._file.write(mask(data))
        self._file.flush()
        if self._file.tell() > self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        self._file.close()
        for n in range(self.backups, 0, -1):
            older = f"{self.path}.{n - 1}" if n > 1 else self.path
            if os.path.exists(older):
                os.replace(older, f"{self.path}.{n}")
        self._file = open(self.path, "ab")  # noqa: SIM115
