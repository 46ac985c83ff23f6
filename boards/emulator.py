"""The emulator board: the firmware on the MicroPython unix port.

Only what cannot exist on a PC is simulated, behind this file: the I2C bus
with its SSD1306 (the real driver runs against a model of the chip) and the
keypad (keys arrive over the host link instead of from a matrix).
"""
from ssd1306 import SSD1306_I2C
from sim_ssd1306 import SimulatedI2C, SimulatedSSD1306

NAME = "emulator"

DISPLAY_I2C_ADDR = 0x3C

panel = SimulatedSSD1306(128, 64)
i2c = SimulatedI2C({DISPLAY_I2C_ADDR: panel})
display = SSD1306_I2C(i2c, DISPLAY_I2C_ADDR, 128, 64)


def make_keypad(queue):
    """No matrix here: the host link feeds the queue."""
    return None


def panel_pixels():
    """What the panel shows: the simulated chip's display RAM."""
    return panel.gddram
