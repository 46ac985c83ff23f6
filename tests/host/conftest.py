from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from micropos import paths

MICROPOS = Path(sys.executable).parent / "micropos"


def run_micropos(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MICROPOS), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=paths.ROOT, **kw)


@pytest.fixture
def micropos_cli():
    return run_micropos
