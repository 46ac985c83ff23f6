"""4x4 (or any R x C) matrix keypad: scanning with debounce, feeding a KeyQueue.

The driver is handed ready pins: rows configured as outputs idling high,
columns as inputs with pull-ups.  A key closes its row to its column, so
while a row is driven low a pressed key reads 0 on its column.

Debounce is a per-key counter: a key changes state only after it has read
the new state on ``stable_scans`` consecutive scans, so contact bounce
shorter than that never makes an event.  Only presses are queued.

The scan loop is the board's sign of life: given a ``watchdog`` (an
ESP32's ``machine.WDT``), it feeds it on every scan, so an event loop that
hangs (a bug, a call that blocks) stops the feeding and the chip resets;
the journal then recovers as after a power cut.
"""
from micropython import const
import asyncio

_DEFAULT_STABLE_SCANS = const(4)   # x 5 ms scan period = 20 ms
_DEFAULT_PERIOD_MS = const(5)


class MatrixKeypad:
    def __init__(self, rows, cols, keymap, queue, stable_scans=_DEFAULT_STABLE_SCANS, watchdog=None):
        if len(keymap) != len(rows) * len(cols):
            raise ValueError("keymap needs %d keys" % (len(rows) * len(cols)))
        self._rows = rows
        self._cols = cols
        self._keymap = keymap
        self._queue = queue
        self._stable_scans = stable_scans
        self._watchdog = watchdog
        n = len(keymap)
        self._pressed = bytearray(n)   # debounced state, 1 = down
        self._counts = bytearray(n)    # consecutive scans that disagreed with it

    def scan(self):
        """One pass over the matrix; queues debounced presses.  Allocates nothing."""
        k = 0
        for row in self._rows:
            row.value(0)
            for col in self._cols:
                raw = 1 if col.value() == 0 else 0
                if raw == self._pressed[k]:
                    self._counts[k] = 0
                else:
                    count = self._counts[k] + 1
                    if count >= self._stable_scans:
                        self._pressed[k] = raw
                        self._counts[k] = 0
                        if raw:
                            self._queue.put(self._keymap[k])
                    else:
                        self._counts[k] = count
                k += 1
            row.value(1)

    async def run(self, period_ms=_DEFAULT_PERIOD_MS):
        while True:
            if self._watchdog is not None:
                self._watchdog.feed()
            self.scan()
            await asyncio.sleep_ms(period_ms)
