"""The firmware fits the heap of an ESP32 without PSRAM (64 KB, measured on the unix port)."""
from __future__ import annotations

import pytest

from micropos.errors import LinkError
from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport


def test_idle_and_every_menu_entry_run_in_a_64k_heap(tmp_path):
    with Terminal(EmulatorTransport(heap="64k", env={"MICROPOS_FLASH": str(tmp_path / "f.img")})) as term:
        term.ready()
        for digit in "1234567":
            term.press("FUNC", digit)
            term.expect("Not available" if digit != "3" else "REFUND")
            term.press("CANCEL")
            term.expect("FUNC: menu")
        free, alloc = term.heap()
        assert free + alloc <= 64 * 1024
        assert free > 8 * 1024, f"only {free} B left of 64 KB at idle"


def test_a_heap_too_small_fails_loudly_not_silently(tmp_path):
    with pytest.raises(LinkError, match="exited|MemoryError|no 'ready'"):
        with Terminal(EmulatorTransport(heap="16k", env={"MICROPOS_FLASH": str(tmp_path / "f.img")})) as term:
            term.ready(timeout=5)
