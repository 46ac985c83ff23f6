"""The typed errors the CLI reports as one line: ``micropos: message``."""
from __future__ import annotations


class MicroposError(Exception):
    """Anything the user can act on; the message says what and what to do."""


class SetupError(MicroposError):
    """A tool or file the command needs is missing."""


class LinkError(MicroposError):
    """The terminal's host link failed: no board, a crashed firmware, a bad reply."""


class ExpectTimeout(LinkError):
    """The screen never showed the expected text in time."""

    def __init__(self, text: str, timeout: float, last_screen: tuple[str, ...], log_path: str | None) -> None:
        shown = "\n".join(f"  |{row}" for row in last_screen) or "  (no screen yet)"
        where = f"\nfull device log: {log_path}" if log_path else ""
        super().__init__(f"'{text}' not shown within {timeout:g} s; last screen:\n{shown}{where}")
        self.text = text
        self.last_screen = last_screen
        self.log_path = log_path
