# Frozen as `board`: the firmware imports its board by that name (make deploy copies the file as board.py).
from esp32_devkitc import *  # noqa: F403
