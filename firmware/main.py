# Runs at boot on the board: the terminal, on the board's own keypad and display.
import board  # pyright: ignore[reportMissingImports] - boards/<name>.py, deployed as board.py
import app

try:
    app.run(board)
finally:  # Ctrl-C at the REPL: the key loop no longer feeds the board's watchdog
    stretch = getattr(board, "stretch_watchdog", None)
    if stretch is not None:
        stretch()
