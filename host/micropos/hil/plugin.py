"""pytest plugin: a ``terminal`` fixture that is the terminal under test.

By default each test gets a fresh emulator (the firmware on the unix port,
its own flash image).  With ``--port PORT`` the same tests drive a board, or
a virtual board's pty, over its serial REPL; the firmware must have been
deployed there (``make deploy PORT=...``).  Every test writes its device log
to ``var/logs/hil/<test>.log``; an ``expect`` that times out names that file
and shows the last screen.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from micropos import paths
from micropos.terminal import Terminal

LOG_DIR = paths.VAR / "logs" / "hil"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("micropos", "micropos hardware-in-the-loop")
    group.addoption("--port", default=None,
                    help="run the terminal tests on the board (or virtual board pty) at PORT instead of the emulator")
    group.addoption("--emulator-heap", default="64k", help="MicroPython heap of the emulator (default: 64k)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator_only: needs the emulator (power cuts, flash image access)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--port") is None:
        return
    skip = pytest.mark.skip(reason="needs the emulator, not a board")
    for item in items:
        if "emulator_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def hil_port(request: pytest.FixtureRequest) -> str | None:
    """The board's port, or None on the emulator."""
    return request.config.getoption("--port")


def log_path_for(nodeid: str) -> Path:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    path = LOG_DIR / (re.sub(r"[^\w.-]+", "_", nodeid).strip("_") + ".log")
    path.unlink(missing_ok=True)
    return path


@pytest.fixture
def terminal(request: pytest.FixtureRequest, tmp_path: Path, hil_port: str | None) -> Iterator[Terminal]:
    from micropos.transport import EmulatorTransport, SerialTransport, Transport

    log = log_path_for(request.node.nodeid)
    transport: Transport
    if hil_port:
        transport = SerialTransport(hil_port)
    else:
        heap = request.config.getoption("--emulator-heap")
        transport = EmulatorTransport(heap=heap, env={"MICROPOS_FLASH": str(tmp_path / "flash.img")})
    term = Terminal(transport, log_path=log)
    try:
        term.ready()
        yield term
    finally:
        term.close()
