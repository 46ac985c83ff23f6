"""The interactive emulator's keyboard and drawing, without a tty or a firmware."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from micropos.emulator_ui import (
    HALF_COLUMNS,
    HALF_LINES,
    LEGEND_ITEMS,
    InteractiveEmulator,
    KeyReader,
    Token,
    choose_layout,
    display_width,
    frame,
    key_table,
    legend_lines,
    render_braille,
    render_panel,
    split_keys,
)
from micropos.errors import LinkError
from micropos.screenshot import HEIGHT, WIDTH

BLANK = bytes(WIDTH * HEIGHT // 8)


def keys(tokens: list[Token]) -> list[str]:
    return [token.key if token.kind == "key" else token.kind for token in tokens]


def lit(*points: tuple[int, int]) -> bytes:
    """Panel pixels (MONO_VLSB) with only ``points`` (x, y) on."""
    pixels = bytearray(BLANK)
    for x, y in points:
        pixels[(y // 8) * WIDTH + x] |= 1 << (y % 8)
    return bytes(pixels)


class FakeTerminal:
    """Records what the emulator does to the terminal, in order."""

    def __init__(self, pixels: bytes = BLANK) -> None:
        self.events: list[tuple[object, ...]] = []
        self.screens: list[tuple[str, ...]] = [("MICROPOS", "金额 AMOUNT")]
        self.pixel_requests = 0
        self._pixels = pixels

    @property
    def screen(self) -> tuple[str, ...]:
        return self.screens[-1]

    def press(self, *names: str) -> None:
        self.events.append(("press", *names))

    def swipe(self, pan: str, expiry: str) -> None:
        if not (pan.isdigit() and expiry.isdigit()):
            raise LinkError("a card is PAN=YYMM")
        self.events.append(("swipe", pan, expiry))

    def pixels(self, timeout: float = 5.0) -> bytes:
        self.pixel_requests += 1
        return self._pixels

    def screenshot(self, path: Path, scale: int = 4) -> Path:
        self.events.append(("shot",))
        return path


def emulator(terminal: FakeTerminal, size: tuple[int, int] = (80, 24)) -> tuple[InteractiveEmulator, io.StringIO]:
    out = io.StringIO()
    return InteractiveEmulator(terminal, Path("shots"), out=out, size=lambda: size), out


# -- the keyboard ---------------------------------------------------------------


def test_a_pasted_burst_of_digits_is_every_digit_in_order():
    tokens, rest = split_keys(b"12345678")
    assert keys(tokens) == list("12345678")
    assert rest == b""


def test_a_mixed_burst_keeps_arrows_escape_and_commands_in_order():
    tokens, rest = split_keys(b"1\x1b[A2\x1bOB\x1bx\r\tsu\x7fdqc")
    assert keys(tokens) == ["1", "UP", "2", "DOWN", "CANCEL", "CANCEL", "ENTER", "FUNC", "shot", "UP", "CLEAR",
                            "DOWN", "quit", "card"]
    assert rest == b""


def test_a_burst_ending_inside_an_escape_sequence_keeps_it_for_the_next_read():
    tokens, rest = split_keys(b"12\x1b[")
    assert keys(tokens) == ["1", "2"]
    assert rest == b"\x1b["


@pytest.mark.parametrize("cut", range(1, 12))
def test_an_escape_sequence_cut_by_a_read_is_still_one_key(cut):
    typed = b"9\x1b[B\x1bOA0\x1b[A"
    reader = KeyReader()
    tokens = reader.feed(typed[:cut]) + reader.feed(typed[cut:])
    assert keys(tokens) == ["9", "DOWN", "UP", "0", "UP"]
    assert reader.pending == b""


def test_a_lone_escape_is_cancel_once_the_keyboard_is_quiet():
    reader = KeyReader()
    assert reader.feed(b"\x1b") == []
    assert keys(reader.flush()) == ["CANCEL"]
    assert reader.flush() == []


def test_unknown_bytes_are_reported_and_skipped_without_losing_the_rest():
    tokens, rest = split_keys("1Z\x1b[3~2é3\x1b[C4".encode())
    assert keys(tokens) == ["1", "unknown", "unknown", "2", "unknown", "3", "unknown", "4"]
    unknown = [token.raw for token in tokens if token.kind == "unknown"]
    assert unknown == [b"Z", b"\x1b[3~", "é".encode(), b"\x1b[C"]  # Delete is not a "3"
    assert rest == b""


def test_a_utf8_character_cut_by_a_read_is_one_unknown_token():
    reader = KeyReader()
    data = "1金2".encode()
    tokens = reader.feed(data[:2]) + reader.feed(data[2:])
    assert keys(tokens) == ["1", "unknown", "2"]
    assert tokens[1].raw == "金".encode()


def test_a_pasted_crlf_is_one_enter_even_across_reads():
    assert keys(split_keys(b"5\r\n6")[0]) == ["5", "ENTER", "6"]
    reader = KeyReader()
    assert keys(reader.feed(b"5\r") + reader.feed(b"\n6")) == ["5", "ENTER", "6"]
    assert keys(reader.feed(b"\r") + reader.flush() + reader.feed(b"\n")) == ["ENTER", "ENTER"]


# -- the panel ------------------------------------------------------------------


@pytest.mark.parametrize("point, bit", [
    ((0, 0), 0x01), ((0, 1), 0x02), ((0, 2), 0x04), ((1, 0), 0x08),
    ((1, 1), 0x10), ((1, 2), 0x20), ((0, 3), 0x40), ((1, 3), 0x80),
])
def test_each_pixel_of_a_braille_cell_is_its_own_dot(point, bit):
    lines = render_braille(lit(point)).split("\n")
    assert lines[1][1] == chr(0x2800 + bit)
    assert set(lines[1][2:-1]) == {"\u2800"}


def test_a_pixel_lands_in_the_braille_cell_of_its_position():
    lines = render_braille(lit((5, 62))).split("\n")  # cell (2, 15), dot (1, 2)
    assert lines[16][1 + 2] == "\u2820"
    assert sum(char != "\u2800" for line in lines[1:-1] for char in line[1:-1]) == 1


def test_a_full_panel_is_16_lines_of_64_full_braille_cells_inside_the_border():
    lines = render_braille(b"\xff" * len(BLANK)).split("\n")
    assert len(lines) == 18
    assert lines[0] == lines[-1] == "+" + "-" * 64 + "+"
    assert all(line == "|" + "\u28ff" * 64 + "|" for line in lines[1:-1])


def test_render_panel_is_half_blocks_unless_asked_for_braille():
    half = render_panel(lit((0, 1))).split("\n")
    assert len(half) == 34 and len(half[0]) == 130 and half[1][1] == "▄"
    assert render_panel(lit((0, 1)), "braille") == render_braille(lit((0, 1)))


@pytest.mark.parametrize("size, layout", [
    ((80, 24), "braille"), ((100, 30), "braille"), ((129, 60), "braille"), ((130, 36), "braille"),
    ((130, 37), "half"), ((300, 100), "half"),
    ((79, 24), "too_small"), ((80, 23), "too_small"), ((20, 5), "too_small"),
])
def test_the_layout_is_the_largest_the_terminal_has_room_for(size, layout):
    assert choose_layout(*size) == layout


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (HALF_COLUMNS, HALF_LINES), (200, 60), (60, 20), (30, 5)])
def test_every_frame_fits_its_terminal(size):
    columns, lines = size
    screen = ("金额 AMOUNT 请输入金额 " * 6, "", "12.34")
    status = "已按 pressed " + " ".join("1234567890" * 6)
    rows = frame(columns, lines, lambda: lit((0, 0), (127, 63)), screen, status)
    assert len(rows) <= lines
    assert all(display_width(row) <= columns for row in rows)


def test_an_80x24_frame_shows_the_braille_panel_text_legend_and_status():
    rows = frame(80, 24, lambda: BLANK, ("MICROPOS", "金额"), "已按 pressed 1")
    assert rows[1] == "|" + "\u2800" * 64 + "|"
    assert rows[18] == "屏幕 screen: MICROPOS | 金额"
    assert rows[19:-1] == legend_lines(80)
    assert rows[-1] == "已按 pressed 1"


def test_a_too_small_terminal_says_so_in_both_languages_and_draws_no_panel():
    def no_pixels() -> bytes:
        raise AssertionError("no panel is drawn, so no pixels are asked for")

    rows = frame(60, 20, no_pixels, ("MICROPOS",), "已按 pressed 1")
    assert rows == ["终端窗口太小 / terminal too small: need 80x24, have 60x20", "已按 pressed 1"]
    tiny = frame(30, 5, no_pixels, (), "")
    assert "太小" in tiny[0] and "too small" in tiny[0] and "30x5" in tiny[0]


def test_the_legend_fits_80_columns_chinese_first():
    lines = legend_lines(80)
    assert len(lines) == 2
    assert all(display_width(line, ambiguous=2) <= 80 for line in lines)
    text = " | ".join(lines)
    for zh, keyboard in LEGEND_ITEMS:
        assert f"{zh} {keyboard}" in text
    assert "确认 Enter" in text and "取消 Esc/x" in text and "退出 q" in text
    assert len(legend_lines(HALF_COLUMNS)) == 1


def test_display_width_counts_wide_characters_as_two():
    assert display_width("确认 Enter") == 10
    assert display_width("↑↓") == 2 and display_width("↑↓", ambiguous=2) == 4
    assert display_width("\u28ff" * 64) == 64


def test_the_key_table_stays_bilingual():
    table = key_table()
    assert "ENTER (确认)" in table and "CANCEL (取消)" in table and "UP / DOWN" in table


# -- the emulator ---------------------------------------------------------------


def test_a_burst_of_eight_digits_is_eight_presses_in_order():
    terminal = FakeTerminal()
    ui, _ = emulator(terminal)
    assert ui.handle(b"12345678") is True
    assert terminal.events == [("press", *"12345678")]
    assert "pressed 1 2 3 4 5 6 7 8" in ui.status


def test_commands_in_a_burst_happen_in_order_and_quit_ends_it():
    terminal = FakeTerminal()
    ui, _ = emulator(terminal)
    assert ui.handle(b"12s\x1b[B4q9") is False
    assert terminal.events == [("press", "1", "2"), ("shot",), ("press", "DOWN", "4")]


def test_an_unknown_byte_in_a_burst_is_reported_and_the_keys_around_it_pressed():
    terminal = FakeTerminal()
    ui, _ = emulator(terminal)
    assert ui.handle("1Z2é\x1b[3~".encode()) is True
    assert terminal.events == [("press", "1", "2")]
    assert ui.status == "已按 pressed 1 2; 无此键 no key for 'Z' 'é' '\\x1b[3~': 见按键说明 see the legend"


def test_the_bytes_after_c_in_a_burst_are_the_card_and_keys_follow_it():
    terminal = FakeTerminal()
    ui, _ = emulator(terminal)
    assert ui.handle(b"1c4111111111111111=2612\r5") is True
    assert terminal.events == [("press", "1"), ("swipe", "4111111111111111", "2612"), ("press", "5")]
    assert ui.card is None
    assert "已刷卡 swiped 411111******1111" in ui.status


def test_the_card_prompt_spans_reads_takes_backspace_and_is_cancelled_by_esc():
    terminal = FakeTerminal()
    ui, out = emulator(terminal)
    ui.handle(b"c41x")
    ui.handle(b"\x7f\x7f2")
    assert ui.card == "42"
    ui.draw()
    assert "刷卡 card" in out.getvalue() and "> 42" in out.getvalue()
    ui.handle(b"\x1b")
    assert ui.take(ui.reader.flush()) is True
    assert ui.card is None and "card cancelled" in ui.status
    assert terminal.events == []


def test_a_refused_card_is_shown_and_the_keys_go_on():
    terminal = FakeTerminal()
    ui, _ = emulator(terminal)
    assert ui.handle(b"cnot a card\r7") is True
    assert "刷卡失败 card refused: a card is PAN=YYMM" in ui.status
    assert terminal.events == [("press", "7")]


def test_draw_picks_the_layout_by_the_size_at_each_draw():
    terminal = FakeTerminal(lit((0, 0)))
    size = [80, 24]
    out = io.StringIO()
    ui = InteractiveEmulator(terminal, Path("shots"), out=out, size=lambda: (size[0], size[1]))
    ui.draw()
    assert "|\u2801" + "\u2800" * 63 + "|" in out.getvalue()
    size[:] = [60, 10]
    out.seek(0)
    out.truncate()
    ui.draw()
    assert "终端窗口太小 / terminal too small: need 80x24, have 60x10" in out.getvalue()
    assert "\u2800" not in out.getvalue()
    assert terminal.pixel_requests == 1
    assert ui.drawn_size == (60, 10)
