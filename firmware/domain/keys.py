"""Logical keys and the fixed-size queue that carries them to the app.

Keys are small ints so a queue of them is a bytearray: digits are their own
value, the function keys follow.  A board maps its physical keys to these.
"""
from micropython import const
import asyncio

ENTER = const(10)
CANCEL = const(11)
CLEAR = const(12)
FUNC = const(13)
UP = const(14)
DOWN = const(15)

NAMES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
         "ENTER", "CANCEL", "CLEAR", "FUNC", "UP", "DOWN")


def by_name(name):
    """The key called ``name`` (as in design: ``ENTER``, ``7``...); ValueError if none."""
    for code in range(len(NAMES)):
        if NAMES[code] == name:
            return code
    raise ValueError("unknown key '%s'" % name)


def is_digit(key):
    return 0 <= key <= 9


class KeyQueue:
    """A ring buffer of key codes, allocated once.

    Overflow policy: when full, the new key is dropped and ``overflowed`` is
    set; keys already queued keep their order.  A person cannot type that far
    ahead of the screen, and a host feeding keys waits on ``space()`` instead.
    """

    def __init__(self, size=64):
        self._buf = bytearray(size)
        self._head = 0  # next to read
        self._count = 0
        self.overflowed = False
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self):
        return self._count

    def put(self, key):
        """Queues ``key``; returns False (and sets ``overflowed``) when full."""
        size = len(self._buf)
        if self._count == size:
            self.overflowed = True
            return False
        self._buf[(self._head + self._count) % size] = key
        self._count += 1
        self._ready.set()
        if self._count == size:
            self._room.clear()
        return True

    def get_nowait(self):
        """The oldest key, or -1 when empty."""
        if not self._count:
            return -1
        key = self._buf[self._head]
        self._head = (self._head + 1) % len(self._buf)
        self._count -= 1
        self._room.set()
        if not self._count:
            self._ready.clear()
        return key

    async def get(self):
        while not self._count:
            self._ready.clear()
            await self._ready.wait()
        return self.get_nowait()

    async def space(self):
        """Waits until at least one key fits."""
        while self._count == len(self._buf):
            self._room.clear()
            await self._room.wait()

    def clear(self):
        self._head = 0
        self._count = 0
        self._ready.clear()
        self._room.set()
