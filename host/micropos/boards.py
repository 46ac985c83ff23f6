"""The boards micropos runs on: the host's one table of them.

Flashing, deploying and exporting the journal all read this table: which
chip esptool talks to and where MicroPython's image goes, which
``sys.platform`` a running board reports (to detect it), and where its
flash holds the journal. Pins and buses are the firmware's business
(``boards/<name>.py``); the emulator board takes its flash layout from here,
handed over in its environment when the host starts it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from micropos import paths
from micropos.errors import SetupError

BLOCK_SIZE = 4096  # the erase unit of the NOR flash on every board here


@dataclass(frozen=True)
class Board:
    """One board.

    Attributes:
        name: its definition, ``boards/<name>.py``.
        platform: what ``sys.platform`` says on it.
        chip: esptool's name for its chip; None for a board nothing flashes.
        image_offset: where MicroPython's combined image is written.
        partitions: its ESP-IDF partition table (CSV), written by ``make flash``.
        flash_blocks: size of its flash image, in blocks (the emulator's file).
        vfs_blocks: blocks of the LittleFS partition at the start of the image (the emulator).
        micropython_board: the MicroPython board definition that freezes the firmware (``make firmware``).
    """

    name: str
    platform: str
    chip: str | None = None
    image_offset: int | None = None
    partitions: Path | None = None
    flash_blocks: int = 0
    vfs_blocks: int = 0
    micropython_board: Path | None = None

    @property
    def journal_span(self) -> tuple[int, int]:
        """(offset, length) in bytes of the journal partition in the board's flash image (emulator)."""
        return self.vfs_blocks * BLOCK_SIZE, (self.flash_blocks - self.vfs_blocks) * BLOCK_SIZE

    def env(self) -> dict[str, str]:
        """What the firmware's board file reads from its environment at power-on (the emulator's layout)."""
        if not self.flash_blocks:
            return {}
        return {"MICROPOS_FLASH_BLOCKS": str(self.flash_blocks), "MICROPOS_VFS_BLOCKS": str(self.vfs_blocks)}


BOARDS: dict[str, Board] = {
    board.name: board for board in (
        Board("esp32_devkitc", platform="esp32", chip="esp32", image_offset=0x1000,
              partitions=paths.BOARDS / "esp32_devkitc_partitions.csv",
              micropython_board=paths.BOARDS / "micropython-boards" / "ESP32_DEVKITC_MICROPOS"),
        # a 512 KB image: LittleFS "vfs" in the first 256 KB, the raw journal in the rest
        Board("emulator", platform="linux", flash_blocks=128, vfs_blocks=64),
    )
}
EMULATOR = BOARDS["emulator"]


def board(name: str) -> Board:
    """The board called ``name``.

    Raises:
        SetupError: no such board.
    """
    if name not in BOARDS:
        raise SetupError(f"no board '{name}' (boards: {', '.join(BOARDS)})")
    return BOARDS[name]


def by_platform(platform: str) -> Board | None:
    """The board whose MicroPython reports ``platform`` as ``sys.platform``, if one does."""
    return next((b for b in BOARDS.values() if b.platform == platform), None)
