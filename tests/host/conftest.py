from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from micropos import paths
from micropos.terminal import Terminal
from micropos.transport import EmulatorTransport

MICROPOS = Path(sys.executable).parent / "micropos"


def run_micropos(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MICROPOS), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=paths.ROOT, **kw)


@pytest.fixture
def micropos_cli():
    return run_micropos


def boot(flash: Path, acquirer: str | None = None, cut: tuple[int, bool] | None = None) -> Terminal:
    """The emulator on ``flash``, started; ``cut`` = (n, half): the power fails at the n-th flash write."""
    env = {"MICROPOS_FLASH": str(flash)}
    if acquirer:
        env["MICROPOS_ACQUIRER"] = acquirer
    if cut:
        env["MICROPOS_CUT_AFTER_WRITES"] = str(cut[0])
        env["MICROPOS_CUT_HALF"] = "1" if cut[1] else "0"
    term = Terminal(EmulatorTransport(env=env))
    term.ready()
    return term

