"""``make deploy``: the firmware, compiled to .mpy, copied to a board with mpremote.

The board definition goes across as ``board.mpy``.  A stale ``NAME.py`` on
the board would shadow a new ``NAME.mpy`` (MicroPython imports .py first),
so those are removed first.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from micropos import build, paths
from micropos.boards import by_platform
from micropos.errors import MicroposError, SetupError

_TIMEOUT_S = 120


def mpremote(port: str, *args: str, timeout: float = _TIMEOUT_S) -> str:
    tool = Path(sys.executable).parent / "mpremote"
    if not tool.exists():
        raise SetupError("mpremote is not installed: run 'make test' or 'make run' to set up")
    try:
        proc = subprocess.run([str(tool), "connect", port, "resume", *args],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise MicroposError(f"mpremote on {port} did not finish in {timeout:g} s") from exc
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise MicroposError(f"mpremote on {port} failed: {detail[-1] if detail else 'no output'}")
    return proc.stdout


def detect_board(port: str) -> str:
    platform = mpremote(port, "exec", "import sys; print(sys.platform)").strip()
    found = by_platform(platform)
    if found is None:
        raise MicroposError(f"the board at {port} runs on '{platform}'; name its board with BOARD=...")
    return found.name


def deploy(port: str, board: str = "auto") -> Iterator[str]:
    if board == "auto":
        board = detect_board(port)
        yield f"board at {port}: {board}"
    files = build.compile_tree(board, paths.VAR / "build" / board)
    shadows = [f.stem + ".py" for f in files if f.suffix == ".mpy"]
    mpremote(port, "exec", f"import os\nfor n in {shadows!r}:\n try: os.remove(n)\n except OSError: pass")
    mpremote(port, "fs", "cp", *map(str, files), ":./")
    yield f"copied {len(files)} files ({sum(f.stat().st_size for f in files)} bytes)"
    check = mpremote(port, "exec", "import board, app; print('firmware ok on', board.NAME)").strip()
    yield check
