"""Runs one MicroPython test module on the unix port and reports each test.

Usage: micropython mp_runner.py MODULE [TEST...]

Each top-level function named ``test_*`` is a test; it passes when it returns
without raising.  One line per test goes to stdout, ``PASS name`` or
``FAIL name`` followed by the traceback, then ``END``.
"""
import sys
import io


def _report(name, exc):
    if exc is None:
        print("PASS", name)
        return
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    print("FAIL", name)
    for line in buf.getvalue().splitlines():
        print("  |", line)


def main():
    module = __import__(sys.argv[1])
    wanted = sys.argv[2:]
    names = [n for n in dir(module) if n.startswith("test_")]
    names.sort()
    for name in names:
        if wanted and name not in wanted:
            continue
        try:
            getattr(module, name)()
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            _report(name, exc)
        else:
            _report(name, None)
    print("END")


main()
