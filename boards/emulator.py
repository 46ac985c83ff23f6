"""The emulator board: the firmware on the MicroPython unix port.

Only what cannot exist on a PC is simulated, behind this file: the display
(the 128x64 framebuffer itself, which the host reads over the link and shows
in the terminal or as a PNG: there is no SSD1306 to send it to, and a model
of the chip in this heap would cost the firmware 5 KB a board does not
spend; the driver is tested against that model in tests/firmware), the
keypad (keys arrive over the host link instead of from a matrix) and the
flash chip (a file of 4 KB erase blocks with NOR semantics that counts
programs and erases and can lose power at a chosen write).

Settings come from the environment the host starts the unix port with:
MICROPOS_FLASH_BLOCKS and MICROPOS_VFS_BLOCKS (the flash layout, from the
host's board table, host/micropos/boards.py: the image's size in 4 KB
blocks and how many of them LittleFS "vfs" takes; the raw journal has the
rest), MICROPOS_FLASH (the image file, default flash.img in the current folder),
MICROPOS_ACQUIRER=HOST:PORT (instead of the configured acquirer),
MICROPOS_JOURNAL_SECTORS=N (a smaller journal partition),
MICROPOS_CUT_AFTER_WRITES=N (power fails at the N-th program or erase) and
MICROPOS_CUT_HALF=1 (that write is half applied) and MICROPOS_NO_CLOCK=1 (the
clock starts at 2000-01-01, as a board's does after power-on, and the first
send sets it from the acquirer).
"""
import os
import time
import framebuf

from sim_flash import FileFlash
from sim_printer import ReceiptFile

NAME = "emulator"


def _setting(name, default=None):
    """An int setting from the environment (module-level temporaries would each cost an interned name)."""
    value = os.getenv(name)
    if value:
        return int(value)
    if default is None:
        raise OSError("the emulator board needs %s: start it with micropos (emulator, board or tests)" % name)
    return default


# Flash layout, as on the ESP32 board: LittleFS "vfs", then the raw "journal"
# (MICROPOS_JOURNAL_SECTORS=N gives the journal only N sectors: tests fill it quickly).
flash = FileFlash(os.getenv("MICROPOS_FLASH") or "flash.img", _setting("MICROPOS_FLASH_BLOCKS"))
journal_partition = flash.partition(_setting("MICROPOS_VFS_BLOCKS"), _setting(
    "MICROPOS_JOURNAL_SECTORS", _setting("MICROPOS_FLASH_BLOCKS") - _setting("MICROPOS_VFS_BLOCKS")))
if _setting("MICROPOS_CUT_AFTER_WRITES", 0):
    flash.cut_after(_setting("MICROPOS_CUT_AFTER_WRITES"), half=os.getenv("MICROPOS_CUT_HALF") == "1")

# The board's LittleFS partition, mounted as MicroPython mounts a board's at boot; the settings live there.
# (The stubs type a block device as their own class; FlashPartition has its protocol, not its base.
# The partition is made where it is used, not kept in a name: every name costs the heap a qstr.)
import vfs  # noqa: E402 - after the flash it mounts
try:
    vfs.mount(vfs.VfsLfs2(flash.partition(0, _setting("MICROPOS_VFS_BLOCKS"))),  # pyright: ignore[reportArgumentType]
              "/flash")
except OSError:  # a new flash image: formatted, as a board's is at its first boot
    vfs.VfsLfs2.mkfs(flash.partition(0, _setting("MICROPOS_VFS_BLOCKS")))  # pyright: ignore[reportArgumentType]
    vfs.mount(vfs.VfsLfs2(flash.partition(0, _setting("MICROPOS_VFS_BLOCKS"))),  # pyright: ignore[reportArgumentType]
              "/flash")
SETTINGS_FILE = "/flash/settings"


# (Each computed in its own name, not through helpers or temporaries: every name costs a qstr.)
if os.getenv("MICROPOS_ACQUIRER"):
    ACQUIRER = (os.getenv("MICROPOS_ACQUIRER") or "").rsplit(":", 1)
    ACQUIRER = (ACQUIRER[0], int(ACQUIRER[1]))

if os.getenv("MICROPOS_NO_CLOCK") == "1":  # a board after power-on: no time until the acquirer tells it
    import clock
    clock.set(946684800)

# Local time is the host's, as the acquirer emulator's "today" is.
UTC_OFFSET_MIN = int(time.time())
UTC_OFFSET_MIN = (time.mktime(time.localtime(UTC_OFFSET_MIN)) - time.mktime(time.gmtime(UTC_OFFSET_MIN))) // 60


class Panel(framebuf.FrameBuffer):
    """The display as the app draws on it; ``show`` has no chip to send the pixels to."""

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.buffer = bytearray(width * height // 8)
        super().__init__(self.buffer, width, height, framebuf.MONO_VLSB)

    def show(self, pages=0xFF):
        pass


display = Panel(128, 64)


def make_keypad(queue):
    """No matrix here: the host link feeds the queue."""
    return None


def make_printer():
    """Receipts go to files beside the flash image: the printer's bytes and their text."""
    return ReceiptFile(flash.path)


def panel_pixels():
    """What the panel shows: MONO_VLSB, page by page."""
    return display.buffer
