"""Collects MicroPython test modules under tests/firmware and runs them on the unix port.

Each ``test_*`` function in ``tests/firmware/test_*.py`` becomes one pytest
item.  The module runs once, in a fresh ``micropython`` process with the
firmware, the boards and the test fakes on its path; each item then reports
its own outcome from that run.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from micropos import paths

FIRMWARE_TESTS = Path(__file__).parent / "firmware"
_TEST_DEF = re.compile(r"^def (test_\w+)\(", re.M)
_RUN_TIMEOUT_S = 300


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # These modules are MicroPython, not importable by CPython: only this collector reads them.
    if module_path.parent == FIRMWARE_TESTS:
        return MicroPythonModule.from_parent(parent, path=module_path)
    return None


class MicroPythonModule(pytest.File):
    _results: dict[str, tuple[bool, str]] | None = None
    _raw: str = ""

    def collect(self):
        for name in _TEST_DEF.findall(self.path.read_text()):
            yield MicroPythonTest.from_parent(self, name=name)

    def results(self) -> dict[str, tuple[bool, str]]:
        if self._results is None:
            self._results, self._raw = run_module(self.path)
        return self._results


class MicroPythonTest(pytest.Item):
    def runtest(self) -> None:
        module: MicroPythonModule = self.parent  # type: ignore[assignment]
        results = module.results()
        if self.name not in results:
            raise MicroPythonFailure(f"{self.name} did not report; the run ended with:\n{module._raw[-3000:]}")
        ok, detail = results[self.name]
        if not ok:
            raise MicroPythonFailure(detail)

    def repr_failure(self, excinfo, style=None):  # type: ignore[override]
        if isinstance(excinfo.value, MicroPythonFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name} (MicroPython unix port)"


class MicroPythonFailure(Exception):
    pass


def run_module(path: Path) -> tuple[dict[str, tuple[bool, str]], str]:
    """Runs one firmware test module and parses the runner's report."""
    proc = subprocess.run(
        [str(paths.micropython()), "-X", "heapsize=4m", str(FIRMWARE_TESTS / "mp_runner.py"), path.stem],
        env=paths.micropython_env(extra=[FIRMWARE_TESTS]),
        capture_output=True,
        text=True,
        timeout=_RUN_TIMEOUT_S,
        cwd=FIRMWARE_TESTS,
    )
    raw = proc.stdout + proc.stderr
    results: dict[str, tuple[bool, str]] = {}
    current: str | None = None
    for line in proc.stdout.splitlines():
        if line.startswith("PASS "):
            results[line[5:]] = (True, "")
            current = None
        elif line.startswith("FAIL "):
            current = line[5:]
            results[current] = (False, "")
        elif line.startswith("  | ") and current:
            ok, text = results[current]
            results[current] = (ok, text + line[4:] + "\n")
    return results, raw
