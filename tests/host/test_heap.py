"""The firmware's heap: measured by ``make bench``; here, only that running out is loud."""
from __future__ import annotations

import pytest

from micropos.errors import LinkError
from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport


def test_the_host_link_reports_the_heap_and_what_is_loaded(tmp_path):
    with Terminal(EmulatorTransport(env={"MICROPOS_FLASH": str(tmp_path / "f.img")})) as term:
        term.ready()
        free, alloc = term.heap()
        assert free > 0 and alloc > 0
        loaded = term.modules()
        assert "app" in loaded and "iso8583" not in loaded, "the wire is loaded only while a flow sends"
        term.press("FUNC", "5")
        term.expect("ENTER: settle")
        assert "settle" in term.modules()
        term.press("CANCEL")
        term.expect("FUNC: menu")
        assert "settle" not in term.modules() and "journal" not in term.modules(), "a flow's modules unload at idle"


def test_a_heap_too_small_fails_loudly_not_silently(tmp_path):
    with pytest.raises(LinkError, match="exited|MemoryError|no 'ready'"):
        with Terminal(EmulatorTransport(heap="16k", env={"MICROPOS_FLASH": str(tmp_path / "f.img")})) as term:
            term.ready(timeout=5)
