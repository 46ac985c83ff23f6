# The firmware frozen into the MicroPython image for the ESP32-DevKitC: its
# bytecode then runs from flash and its names are interned in flash too, so
# the heap holds only what the firmware allocates (make firmware).
#
# The layers of firmware/ are frozen flat, as `make deploy` copies them: every
# module at the top level, imported by its bare name. Keep this list the
# layers of host/micropos/paths.py FIRMWARE_LAYERS (a test checks it).
include("$(PORT_DIR)/boards/manifest.py")

LAYERS = ("domain", "words", "drivers", "protocol", "store", "send", "ui", "flows", "app")
for layer in LAYERS:
    freeze("$(BOARD_DIR)/../../../firmware/" + layer)

# the board's wiring, imported as `board` (board.py re-exports esp32_devkitc)
module("esp32_devkitc.py", base_path="$(BOARD_DIR)/../..")
module("board.py", base_path="$(BOARD_DIR)")
