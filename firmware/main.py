# Runs at boot on the board: the terminal, on the board's own keypad and display.
import board  # pyright: ignore[reportMissingImports] - boards/<name>.py, deployed as board.py
import app

app.run(board)
