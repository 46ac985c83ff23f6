"""The panel's pixels (SSD1306 MONO_VLSB) as a PNG a person can look at."""
from __future__ import annotations

from pathlib import Path

WIDTH = 128
HEIGHT = 64


def to_rows(pixels: bytes, width: int = WIDTH, height: int = HEIGHT) -> list[list[bool]]:
    """Unpacks page-major vertical bytes into rows of on/off pixels."""
    if len(pixels) != width * height // 8:
        raise ValueError(f"expected {width * height // 8} bytes of pixels, got {len(pixels)}")
    return [[bool(pixels[(y // 8) * width + x] >> (y % 8) & 1) for x in range(width)] for y in range(height)]


def save_png(pixels: bytes, path: Path, scale: int = 4) -> Path:
    from PIL import Image

    rows = to_rows(pixels)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    on, off = (120, 200, 255), (8, 12, 24)  # a blue OLED
    image.putdata([on if lit else off for row in rows for lit in row])
    image = image.resize((WIDTH * scale, HEIGHT * scale), Image.Resampling.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
