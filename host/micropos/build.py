"""Compiles the firmware (and a board definition) to .mpy with mpy-cross.

``main.py`` stays source, as MicroPython only runs ``main.py`` at boot; every
other module ships as bytecode, which loads without the compiler's heap cost.

The layer folders of ``firmware/`` are flattened: on the board every module
sits at the top level and is imported by its bare name (``import journal``),
as in the source. A package per layer would cost a module object and an
interned dotted name per module (docs/architecture.md), so a module's name
must be unique across the layers.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from micropos import paths
from micropos.errors import SetupError

SOURCE_ONLY = {"main.py", "boot.py"}


def mpy_cross() -> Path:
    tool = Path(sys.executable).parent / "mpy-cross"
    if not tool.exists():
        raise SetupError("mpy-cross is not installed: run 'make test' or 'make run' to set up")
    return tool


def board_sources(board: str) -> list[Path]:
    """The board file (deployed as board.py) and the simulated parts it imports."""
    main = paths.BOARDS / f"{board}.py"
    if not main.exists():
        known = ", ".join(sorted(p.stem for p in paths.BOARDS.glob("*.py") if not p.stem.startswith("sim_")))
        raise SetupError(f"no board '{board}' (boards: {known})")
    sims = sorted(paths.BOARDS.glob("sim_*.py")) if board == "emulator" else []
    return [main, *sims]


def firmware_sources() -> list[Path]:
    """Every firmware source file: ``main.py`` and each layer's modules, lowest layer first.

    Raises:
        SetupError: two layers hold a module of the same name, or a folder is not a layer.
    """
    sources = sorted(paths.FIRMWARE.glob("*.py"))
    layers = set(paths.FIRMWARE_LAYERS)
    for folder in sorted(p for p in paths.FIRMWARE.iterdir() if p.is_dir() and p.name != "__pycache__"):
        if folder.name not in layers:
            raise SetupError(f"firmware/{folder.name}/ is not a layer (layers: {', '.join(paths.FIRMWARE_LAYERS)})")
    for folder in paths.firmware_folders():
        sources += sorted(folder.glob("*.py"))
    seen: dict[str, Path] = {}
    for src in sources:
        if src.name in seen:
            raise SetupError(f"two firmware modules named {src.stem}: {seen[src.name]} and {src}; "
                             "on the board they share one namespace")
        seen[src.name] = src
    return sources


def firmware_data() -> list[Path]:
    """The data files the firmware reads from flash beside its modules (the 中文 glyph file)."""
    return sorted(p for folder in paths.firmware_folders() for p in folder.glob("*.bin"))


def compile_tree(board: str, out: Path) -> list[Path]:
    """Writes the firmware for ``board`` to ``out``; returns the files to copy, in order.

    Modules become .mpy (``main.py`` stays source); data files are copied as they are.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    sources = [(src, src.name) for src in firmware_sources()]
    sources += [(src, "board.py" if src.stem == board else src.name) for src in board_sources(board)]
    for src, name in sources:
        if name in SOURCE_ONLY:
            dest = out / name
            _replace(dest, src.read_bytes())
        else:
            dest = out / (Path(name).stem + ".mpy")
            if not dest.exists() or dest.stat().st_mtime < src.stat().st_mtime:
                _compile(src, dest, Path(name).stem)
        files.append(dest)
    for src in firmware_data():
        dest = out / src.name
        if not dest.exists() or dest.read_bytes() != src.read_bytes():
            _replace(dest, src.read_bytes())
        files.append(dest)
    return files


def _replace(dest: Path, data: bytes) -> None:
    """Writes ``dest`` whole or not at all: another test process may be reading the same build."""
    scratch = dest.with_name(f".{dest.name}.{os.getpid()}")
    scratch.write_bytes(data)
    scratch.replace(dest)


def _compile(src: Path, dest: Path, source_name: str) -> None:
    """Compiles to a scratch file first, so that a parallel test process never reads half a module."""
    scratch = dest.with_name(f".{dest.stem}.{os.getpid()}.mpy")
    proc = subprocess.run(
        [str(mpy_cross()), "-s", source_name, "-o", str(scratch), str(src)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        scratch.unlink(missing_ok=True)
        raise SetupError(f"mpy-cross failed on {src}: {proc.stderr.strip()}")
    scratch.replace(dest)
