# Runs at boot on the board: the terminal, on the board's own keypad and display.
import board
import app

app.run(board)
