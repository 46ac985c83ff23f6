# The virtual board's "ROM": what MicroPython's own start-up does on an ESP32.
# It runs on the unix port inside the board's filesystem folder, then the
# REPL takes over (micropython -i), reachable over the pty like a board's USB
# serial.  Only files deployed to the board are importable.
import os
import sys

sys.path[:] = ["", "lib", ".frozen"]


def _run(name):
    try:
        os.stat(name)
    except OSError:
        return
    try:
        exec(open(name).read(), {"__name__": "__main__"})
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # a board prints the traceback and goes on to the REPL
        sys.print_exception(exc)


_run("boot.py")
_run("main.py")
del _run
