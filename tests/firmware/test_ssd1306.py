from ssd1306 import SSD1306_I2C
from textscreen import TextScreen
from sim_ssd1306 import SimulatedI2C, SimulatedSSD1306
from fakes import RecordingI2C

# Datasheet power-on sequence for a 128x64 panel on the internal charge pump,
# each command as its own I2C write: control byte 0x80 (Co=1, D/C#=0) + command.
DATASHEET_INIT = [
    0xAE,              # display off
    0x20, 0x00,        # horizontal addressing
    0x40,              # start line 0
    0xA1,              # segment remap
    0xA8, 0x3F,        # multiplex 64
    0xC8,              # COM scan remapped
    0xD3, 0x00,        # no offset
    0xDA, 0x12,        # alternative COM pins
    0xD5, 0x80,        # clock
    0xD9, 0xF1,        # pre-charge, internal VCC
    0xDB, 0x30,        # VCOMH
    0x81, 0xFF,        # contrast
    0xA4,              # follow RAM
    0xA6,              # not inverted
    0x8D, 0x14,        # charge pump on
    0xAF,              # display on
]


def _commands(writes):
    return [w[1][1] for w in writes if w[1][0] == 0x80]


def _data_writes(writes):
    return [w[1] for w in writes if w[1][0] == 0x40]


def test_init_sends_the_datasheet_sequence_then_clears_every_page():
    bus = RecordingI2C()
    SSD1306_I2C(bus, 0x3C)
    assert all(addr == 0x3C for addr, _ in bus.writes)
    assert _commands(bus.writes)[:len(DATASHEET_INIT)] == DATASHEET_INIT
    data = _data_writes(bus.writes)
    assert len(data) == 8
    assert all(d == b"\x40" + bytes(128) for d in data)


def test_show_sends_only_the_pages_asked_for_with_their_window():
    bus = RecordingI2C()
    display = SSD1306_I2C(bus, 0x3C)
    bus.writes.clear()
    display.fill_rect(0, 16, 128, 8, 1)
    display.show(1 << 2)
    assert _commands(bus.writes) == [0x21, 0, 127, 0x22, 2, 2]
    assert _data_writes(bus.writes) == [b"\x40" + b"\xff" * 128]


def test_text_screen_redraws_only_changed_rows():
    bus = RecordingI2C()
    screen = TextScreen(SSD1306_I2C(bus, 0x3C))
    screen.show(("TITLE", "one", "two"))
    bus.writes.clear()
    screen.show(("TITLE", "one", "TWO"))
    assert len(_data_writes(bus.writes)) == 1
    assert _commands(bus.writes) == [0x21, 0, 127, 0x22, 2, 2]
    bus.writes.clear()
    screen.show(("TITLE", "one", "TWO"))
    assert bus.writes == []


def test_text_screen_keeps_the_words_and_tells_its_listener():
    seen = []
    screen = TextScreen(SSD1306_I2C(RecordingI2C(), 0x3C))
    screen.listener = lambda rows: seen.append(tuple(rows))
    screen.show(("MENU", "1 SALE"))
    screen.show(("MENU", "1 SALE"))
    screen.show(("MENU", "a row far too long for sixteen columns"))
    assert screen.rows[1] == "a row far too long fo"  # 21 condensed columns at most
    assert len(seen) == 2
    assert seen[0] == ("MENU", "1 SALE", "", "", "", "", "", "")


def test_the_simulated_panel_shows_what_the_driver_drew():
    panel = SimulatedSSD1306()
    display = SSD1306_I2C(SimulatedI2C({0x3C: panel}), 0x3C)
    assert panel.on
    screen = TextScreen(display)
    screen.show(("MENU", "1 SALE", "", "", "", "", "", "7 SETTINGS"))
    assert bytes(panel.gddram) == bytes(display.buffer)
    display.pixel(5, 40, 1)          # drawn but not shown: the panel must not have it
    assert bytes(panel.gddram) != bytes(display.buffer)


def test_title_row_is_inverted_and_body_rows_are_not():
    display = SSD1306_I2C(RecordingI2C(), 0x3C)
    TextScreen(display).show(("AB", "AB"))
    title = sum(bin(b).count("1") for b in display.buffer[0:128])
    body = sum(bin(b).count("1") for b in display.buffer[128:256])
    assert title == 128 * 8 - body


class _Glyphs:
    """Draws every 中文 character as a full 12 x 12 block and records what it drew."""

    def __init__(self):
        self.drawn = []

    def __call__(self, fb, code, x, y, ink):
        self.drawn.append((chr(code), x, y))
        fb.fill_rect(x, y, 12, 12, ink)
        return 12


def test_a_row_with_chinese_is_12_pixels_high_and_the_blank_rows_close_up():
    display = SSD1306_I2C(RecordingI2C(), 0x3C)
    glyphs = _Glyphs()
    screen = TextScreen(display, glyphs)
    # title, prompt, value, blank, error, blank, blank, footer: 4 rows of 12, one of 8, three blanks
    screen.show(("退货", "主管密码", "******", "", "密码错误", "", "", "确认:继续"))
    assert screen.clipped is None
    assert [y for _, _, y in glyphs.drawn[:2]] == [0, 0]  # the title's two characters
    assert ("主", 0, 12) in glyphs.drawn
    # the ASCII value row starts at 24, 8 high; the 3 blanks share 64 - 56 = 8 pixels: 2 each
    assert ("密", 0, 34) in glyphs.drawn
    assert ("确", 0, 50) in glyphs.drawn
    assert ("继", 32, 50) in glyphs.drawn  # after "确认:" the colon is 8 pixels wide
    assert screen._tops[8] == 62


def test_ascii_in_a_chinese_row_stays_8_pixels_wide_and_10_characters_fill_it():
    display = SSD1306_I2C(RecordingI2C(), 0x3C)
    glyphs = _Glyphs()
    screen = TextScreen(display, glyphs)
    screen.show(("", "还可试2次", "交易成功交易成功交易成功"))
    # two rows of 12 and six blanks of 8 would be 72 high: the blanks take 40 / 6 = 6 each
    assert ("次", 12 * 3 + 8, 6) in glyphs.drawn
    assert screen.clipped == "交易成功交易成功交易成功"
    assert screen.rows[2] == "交易成功交易成功交易"  # 10 characters of 12 pixels


def test_rows_that_do_not_fit_down_the_panel_are_reported():
    screen = TextScreen(SSD1306_I2C(RecordingI2C(), 0x3C), _Glyphs())
    screen.show(("一", "二", "三", "四", "五", "六"))  # 6 x 12 = 72 > 64
    assert screen.clipped == "六"
    screen.clipped = None
    screen.show(("一", "二", "三", "四", "五"))
    assert screen.clipped is None


def test_only_the_pages_of_a_changed_chinese_row_are_sent():
    bus = RecordingI2C()
    screen = TextScreen(SSD1306_I2C(bus, 0x3C), _Glyphs())
    screen.show(("标题", "一行", "x"))
    bus.writes.clear()
    screen.show(("标题", "二行", "x"))
    # the second row spans pixels 12..23: pages 1 and 2
    assert _commands(bus.writes) == [0x21, 0, 127, 0x22, 1, 1, 0x21, 0, 127, 0x22, 2, 2]


def test_a_missing_device_raises_like_machine_i2c():
    try:
        SSD1306_I2C(SimulatedI2C({}), 0x3C)
    except OSError as exc:
        assert exc.args[0] == 19
    else:
        raise AssertionError("no error")


def test_a_row_longer_than_16_characters_is_drawn_condensed_not_cut():
    display = SSD1306_I2C(RecordingI2C(), 0x3C)
    screen = TextScreen(display)
    screen.show(("RESULT", "ORIGINAL NOT FOUND", "X" * 30))
    assert screen.rows[1] == "ORIGINAL NOT FOUND"
    assert screen.rows[2] == "X" * 21          # 21 condensed characters fill 126 pixels
    page = display.buffer[128:256]
    # the 18th character (D) lands at 6 * 17 = 102..107: ink there, none past it
    assert sum(page[102:108]) > 0
    assert sum(page[108:128]) == 0
    # each condensed character keeps its whole glyph: 'O' has the same ink as in the 8x8 font
    alone = SSD1306_I2C(RecordingI2C(), 0x3C)
    TextScreen(alone).show(("", "O"))
    assert bytes(page[0:5]) == bytes(alone.buffer[129:134])
