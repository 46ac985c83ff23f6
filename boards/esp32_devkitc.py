"""ESP32-DevKitC (ESP32-WROOM-32, no PSRAM): every pin and bus of the terminal.

Wiring (GPIO numbers):
  keypad 4x4   rows R1..R4 -> 13, 12, 14, 27 (outputs, idle high)
               cols C1..C4 -> 26, 25, 33, 32 (inputs, internal pull-up)
  SSD1306      I2C0 SDA 21, SCL 22, 400 kHz, address 0x3C, 3V3
  printer      UART2 TX 17 -> printer RX, RX 16 <- printer TX, 9600 8N1 (optional)
  card reader  UART1 RX 4 <- reader data (track 2 ASCII), TX 5, 9600 8N1
Only this file names pins; drivers and the app receive ready objects.

Flash layout (4 MB; the table is esp32_devkitc_partitions.csv, written by make flash):
  0x001000 bootloader, 0x008000 partition table, 0x009000 nvs (24 KB),
  0x00F000 phy_init (4 KB), 0x010000 factory app (1984 KB),
  0x200000 vfs LittleFS (1792 KB), 0x3C0000 journal raw (256 KB).
"""
import esp32
from machine import I2C, Pin, UART, WDT

import keys
from keypad import MatrixKeypad
from ssd1306 import SSD1306_I2C

NAME = "esp32_devkitc"

KEYPAD_ROW_PINS = (13, 12, 14, 27)
KEYPAD_COL_PINS = (26, 25, 33, 32)
# Physical layout, row by row:  1 2 3 A / 4 5 6 B / 7 8 9 C / * 0 # D
KEYMAP = bytes((
    1, 2, 3, keys.FUNC,
    4, 5, 6, keys.UP,
    7, 8, 9, keys.DOWN,
    keys.CANCEL, 0, keys.ENTER, keys.CLEAR,
))

I2C_SDA_PIN = 21
I2C_SCL_PIN = 22
I2C_FREQ_HZ = 400_000
DISPLAY_I2C_ADDR = 0x3C

PRINTER_UART = 2
PRINTER_TX_PIN = 17
PRINTER_RX_PIN = 16
PRINTER_BAUD = 9600

CARD_UART = 1
CARD_RX_PIN = 4
CARD_TX_PIN = 5
CARD_BAUD = 9600

JOURNAL_PARTITION = "journal"

# The longest the key loop may stall before the chip resets (see make_keypad): far longer than
# anything the terminal does between two scans (the journal's recovery at boot, a password check,
# a flash erase), far shorter than a cashier would wait at a frozen screen.
WATCHDOG_MS = 30000

# This board's WiFi: the network the acquirer is reached over.
WIFI_SSID = ""
WIFI_PASSWORD = ""

# The settings (language, supervisor password) on the LittleFS "vfs"
# partition that MicroPython mounts at / when it boots.
SETTINGS_FILE = "/settings"

# The raw partition the journal lives on (None on a board whose partition
# table has no "journal" entry: the stock MicroPython table does not).
_found = esp32.Partition.find(esp32.Partition.TYPE_DATA, label=JOURNAL_PARTITION)
journal_partition = _found[0] if _found else None
del _found

i2c = I2C(0, sda=Pin(I2C_SDA_PIN), scl=Pin(I2C_SCL_PIN), freq=I2C_FREQ_HZ)
display = SSD1306_I2C(i2c, DISPLAY_I2C_ADDR, 128, 64)


def make_keypad(queue):
    rows = [Pin(n, Pin.OUT, value=1) for n in KEYPAD_ROW_PINS]
    cols = [Pin(n, Pin.IN, Pin.PULL_UP) for n in KEYPAD_COL_PINS]
    # started here, with the loop that feeds it: a hang anywhere after boot becomes a reboot
    return MatrixKeypad(rows, cols, KEYMAP, queue, watchdog=WDT(timeout=WATCHDOG_MS))


def stretch_watchdog():
    """After Ctrl-C (a developer at the REPL): nothing feeds the watchdog, and an ESP32's cannot be
    stopped; asking for a new one with the longest timeout keeps the board from resetting under
    mpremote where the port reconfigures it (ESP-IDF 5 builds).  Where it cannot, the board resets
    WATCHDOG_MS after Ctrl-C, into the terminal again.
    """
    try:
        WDT(timeout=0x7FFFFFFF)
    except (OSError, ValueError) as exc:
        print("watchdog still running: the board resets in %d s (%s)" % (WATCHDOG_MS // 1000, exc))


def make_printer_uart():
    return UART(PRINTER_UART, baudrate=PRINTER_BAUD, tx=PRINTER_TX_PIN, rx=PRINTER_RX_PIN)


def make_card_uart():
    return UART(CARD_UART, baudrate=CARD_BAUD, tx=CARD_TX_PIN, rx=CARD_RX_PIN)


def make_card_reader(app):
    from cardreader import CardReader
    return CardReader(make_card_uart(), app)


def make_printer():
    from escpos import EscPos
    return EscPos(make_printer_uart())


async def network_up(config, timeout_ms=10000):
    """WiFi station up with the configured credentials; False when it does not connect in time."""
    import asyncio
    import network
    import time
    wlan = network.WLAN(network.STA_IF)
    if wlan.isconnected():
        return True
    if not WIFI_SSID:
        return False
    wlan.active(True)
    wlan.connect(WIFI_SSID, WIFI_PASSWORD)
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while not wlan.isconnected():
        if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            return False
        await asyncio.sleep_ms(100)
    return True


def panel_pixels():
    """The frame last sent to the panel (the driver keeps it in RAM)."""
    return display.buffer
