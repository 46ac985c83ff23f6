"""pytest plugin: a ``terminal`` fixture that is the terminal under test.

By default each test gets a fresh emulator (the firmware on the unix port,
its own flash image).  With ``--port PORT`` the same tests drive a board, or
a virtual board's pty, over its serial REPL; the firmware must have been
deployed there (``make deploy PORT=...``).  Every test writes its device log
to ``var/logs/hil/<test>.log``; an ``expect`` that times out names that file
and shows the last screen.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from micropos import paths
from micropos.acquirer.server import RunningAcquirer
from micropos.hil import leaks
from micropos.terminal import Terminal
from micropos.transport import DEFAULT_HEAP

LOG_DIR = paths.VAR / "logs" / "hil"
_STARTED = pytest.StashKey[float]()
_NOTES = "micropos_leak_notes"  # with pytest-xdist: the folder where each worker leaves what it noted
_NOTES_DIR = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("micropos", "micropos hardware-in-the-loop")
    group.addoption("--port", default=None,
                    help="run the terminal tests on the board (or virtual board pty) at PORT instead of the emulator")
    group.addoption("--acquirer-host", default="127.0.0.1",
                    help="address the terminal reaches this machine's acquirer emulator at (default: 127.0.0.1)")
    group.addoption("--emulator-heap", default=DEFAULT_HEAP,
                    help=f"MicroPython heap of the emulator (default: {DEFAULT_HEAP})")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator_only: needs the emulator (power cuts, flash image access)")


def pytest_sessionstart(session: pytest.Session) -> None:
    leaks.forget()
    session.config.stash[_STARTED] = time.time() - 1  # mtimes may lag the clock a little


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controller: where each worker leaves the cards it noted for the one leak check."""
    config = node.config
    if _NOTES_DIR not in config.stash:
        config.stash[_NOTES_DIR] = Path(tempfile.mkdtemp(prefix="micropos-leak-notes-"))
    node.workerinput[_NOTES] = str(config.stash[_NOTES_DIR])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The leak check: the run fails when a file written during it holds a card the tests used.

    With pytest-xdist each worker notes the cards its tests used and leaves
    them (outside every folder the check scans) for the controller, which
    checks once, after all of them, for all of them.
    """
    started = session.config.stash.get(_STARTED, None)
    if started is None:
        return
    roots = [paths.VAR]
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and factory._basetemp is not None:  # noqa: SLF001 - only when tests used tmp_path
        roots.append(factory._basetemp)  # noqa: SLF001
    cards = leaks.noted()
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:  # a worker: its notes go to the controller
        notes = Path(workerinput[_NOTES]) / f"{workerinput['workerid']}.json"
        notes.write_text(json.dumps({"cards": {pan: sorted(exp) for pan, exp in cards.items()},
                                     "roots": [str(root) for root in roots]}))
        return
    notes_dir = session.config.stash.get(_NOTES_DIR, None)
    if notes_dir is not None:
        for notes in notes_dir.glob("*.json"):
            left = json.loads(notes.read_text())
            for pan, expiries in left["cards"].items():
                cards.setdefault(pan, set()).update(expiries)
            roots.extend(Path(root) for root in left["roots"] if Path(root) not in roots)
        shutil.rmtree(notes_dir, ignore_errors=True)
    roots = [root for root in roots if not any(other != root and other in root.parents for other in roots)]
    for pan in leaks.ledger_pans(p for root in roots if root.is_dir() for p in root.rglob("*.sqlite3")):
        cards.setdefault(pan, set())
    found = leaks.scan(roots, cards, since=started)
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["card data leaked into files the terminal side wrote:", *(f"  {leak}" for leak in found)]
    if reporter is not None:
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    port: str | None = request.config.getoption("--port")
    return port


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
    assert_fits(term)


def assert_fits(term: Terminal) -> None:
    """Fails the test when a screen the terminal showed had a row that did not fit its panel."""
    if term.clipped:
        shown = dict.fromkeys(f"row {row!r} of {' | '.join(screen)}" for screen, row in term.clipped)
        pytest.fail(f"{len(shown)} screen(s) did not fit the 128x64 panel:\n  " + "\n  ".join(shown),
                    pytrace=False)


class Reboot:
    """Power cycles for emulator tests: ``reboot(term)`` cuts its power and boots the same flash again."""

    def __init__(self, request: pytest.FixtureRequest, flash: Path, heap: str) -> None:
        self._request = request
        self._flash = flash
        self._heap = heap
        self._booted: list[Terminal] = []

    def __call__(self, term: Terminal, acquirer: str | None = None, journal_sectors: int | None = None, *,
                 no_clock: bool = False) -> Terminal:
        """Boots again; ``acquirer`` (HOST:PORT) is known from power-on, as a board's stored setting is.

        ``no_clock``: the board comes up with no time, as a real one does after power-on.
        """
        from micropos.transport import EmulatorTransport

        term.power_cut()
        log = log_path_for(self._request.node.nodeid + f"-boot{len(self._booted) + 1}")
        env = {"MICROPOS_FLASH": str(self._flash)}
        if acquirer:
            env["MICROPOS_ACQUIRER"] = acquirer
        if journal_sectors:
            env["MICROPOS_JOURNAL_SECTORS"] = str(journal_sectors)
        if no_clock:
            env["MICROPOS_NO_CLOCK"] = "1"
        new = Terminal(EmulatorTransport(heap=self._heap, env=env), log_path=log)
        self._booted.append(new)
        new.ready()
        return new

    def close(self) -> None:
        for term in self._booted:
            term.close()
        for term in self._booted:
            assert_fits(term)


@pytest.fixture
def reboot(request: pytest.FixtureRequest, tmp_path: Path, hil_port: str | None) -> Iterator[Reboot]:
    """Power-cut-and-boot for the emulator (tests using it are marked emulator_only)."""
    if hil_port:
        pytest.skip("a power cut needs the emulator")
    booter = Reboot(request, tmp_path / "flash.img", request.config.getoption("--emulator-heap"))
    yield booter
    booter.close()


@pytest.fixture
def acquirer(request: pytest.FixtureRequest, tmp_path: Path, terminal: Terminal) -> Iterator[RunningAcquirer]:
    """A fresh acquirer emulator (empty ledger in tmp_path) that the terminal is pointed at."""
    from micropos.acquirer.server import start_in_thread

    host = request.config.getoption("--acquirer-host")
    running = start_in_thread(tmp_path / "ledger.sqlite3", host=host)
    terminal.set("acquirer", f"{host}:{running.port}")
    yield running
    running.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The power-cut sweep's count of cut points (tests/host/power_cut.py), every one passed."""
    lines = [str(value) for report in terminalreporter.stats.get("passed", [])
             for name, value in getattr(report, "user_properties", ()) if name == "power-cut sweep"]
    if lines:
        terminalreporter.section("power-cut sweep")
        for line in sorted(lines):
            terminalreporter.write_line(line)
        total = sum(int(word) for line in lines for word in line.split(": ")[1].split() if word.isdigit())
        terminalreporter.write_line(f"{total} cut points in all: each recovered, agreed with the ledger, "
                                    "and a sale and its void were approved after it")
