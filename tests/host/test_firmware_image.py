"""``make firmware``: the board definition freezes every firmware module, and a missing toolchain is named."""
from __future__ import annotations

import os
from pathlib import Path

from micropos import build, paths
from micropos.boards import BOARDS
from micropos.firmware_image import missing

BOARD_DIR = BOARDS["esp32_devkitc"].micropython_board


def frozen_modules(board_dir: Path) -> set[str]:
    """The module names the board's manifest.py freezes, read by running it as MicroPython's build would."""
    names: set[str] = set()

    def resolve(path: str) -> Path:
        return Path(path.replace("$(BOARD_DIR)", str(board_dir)))

    def freeze(path: str, script: str | None = None) -> None:
        names.update(p.stem for p in resolve(path).glob("*.py"))

    def module(name: str, base_path: str = ".") -> None:
        assert (resolve(base_path) / name).is_file(), name
        names.add(Path(name).stem)

    def include(path: str) -> None:
        assert path.startswith("$(PORT_DIR)"), "only the port's own manifest is included"

    manifest = board_dir / "manifest.py"
    exec(compile(manifest.read_text(), str(manifest), "exec"),  # noqa: S102 - the build runs it the same way
         {"freeze": freeze, "module": module, "include": include})
    return names


def test_the_manifest_freezes_every_firmware_module_and_the_board():
    assert BOARD_DIR is not None and BOARD_DIR.is_dir()
    firmware = {src.stem for src in build.firmware_sources() if src.name != "main.py"}
    assert frozen_modules(BOARD_DIR) == firmware | {"esp32_devkitc", "board"}


def test_the_board_definition_cannot_shadow_an_import():
    assert "-" in BOARD_DIR.parent.name, "a folder name no import can name"
    assert (BOARD_DIR / "mpconfigboard.cmake").is_file() and (BOARD_DIR / "mpconfigboard.h").is_file()


def test_make_firmware_without_a_toolchain_says_exactly_what_is_missing(micropos_cli):
    env = {k: v for k, v in os.environ.items() if k not in ("IDF_PATH", "MICROPY_DIR")}
    proc = micropos_cli("firmware", "--board", "esp32_devkitc", env=env, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr == (
        "micropos: make firmware needs: IDF_PATH is not set: it names an ESP-IDF, v5.2 to v5.4 (install it, "
        "then source its export.sh); MICROPY_DIR is not set: it names a clone of MicroPython's source, v1.29 "
        "(the micropython/micropython repository)\n")


def test_a_toolchain_in_the_wrong_place_is_named_with_its_path(tmp_path):
    env = {"IDF_PATH": str(tmp_path / "idf"), "MICROPY_DIR": str(tmp_path / "mpy"), "PATH": os.environ["PATH"]}
    said = missing(env)
    assert said == [f"IDF_PATH={tmp_path / 'idf'} holds no tools/idf.py: it must name an ESP-IDF, v5.2 to v5.4 "
                    "(install it, then source its export.sh)",
                    f"MICROPY_DIR={tmp_path / 'mpy'} holds no ports/esp32/Makefile: it must name a clone of "
                    "MicroPython's source, v1.29 (the micropython/micropython repository)"]
    (tmp_path / "idf" / "tools").mkdir(parents=True)
    (tmp_path / "idf" / "tools" / "idf.py").touch()
    (tmp_path / "mpy" / "ports" / "esp32").mkdir(parents=True)
    (tmp_path / "mpy" / "ports" / "esp32" / "Makefile").touch()
    assert missing(env) == []
    assert paths.ROOT.is_dir()
