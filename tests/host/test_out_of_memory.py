"""Running out of memory never stops the terminal (design.md, "Security").

On a heap too small for the work asked of it, the flow in progress is
abandoned with a message, the keys typed ahead for it are dropped, and the
terminal goes back to idle and keeps answering. (Issue 12 measured the
firmware exiting on a MemoryError when a void was opened at 64 KB.)
"""
from __future__ import annotations

from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport


def test_a_flow_that_runs_out_of_memory_is_abandoned_and_the_terminal_goes_on(tmp_path):
    env = {"MICROPOS_FLASH": str(tmp_path / "flash.img")}
    with Terminal(EmulatorTransport(heap="56k", env=env)) as term:  # boots, but has no room for a flow
        term.ready()
        term.press("FUNC", "1", *"100", "ENTER")  # a sale, its amount typed ahead
        screen = term.expect("Out of memory", 10)
        assert "try again" in screen
        assert term.settle() == screen, "the keys typed for the abandoned sale were dropped"
        term.press("CANCEL")
        term.expect("FUNC: menu")
        for _ in range(3):  # again and again: never an exit
            term.press("FUNC", "2")
            term.expect(("Out of memory", "Supervisor pwd"))
            term.press("CANCEL", "CANCEL")
            term.expect("FUNC: menu")
        term.alive()
