"""The terminal application: one navigator, one key loop, one ticker.

Everything happens on asyncio tasks: the keypad scanner (when the board has
one) and the host link (in the emulator and under test) put keys in the
queue; the key loop hands each to the current screen and redraws.  Keys that
arrive before a screen is ready wait in the queue, so typing ahead loses
nothing.
"""
from micropython import const
import asyncio
import time

import messages
from keys import KeyQueue
from config import Config
from textscreen import TextScreen
import home

_TICK_MS = const(1000)


class App:
    def __init__(self, board, config=None, flows=None):
        self.board = board
        self.config = config or Config()
        self.queue = KeyQueue()
        self.text = TextScreen(board.display)
        self.flows = flows or {}
        self.screen = None
        self._last_key_ms = time.ticks_ms()
        self.home()

    def t(self, key):
        return messages.lookup(self.config.language, key)

    def go(self, screen):
        if self.screen is not None:
            self.screen.on_hide()
        self.screen = screen
        screen.on_open()
        self.render()

    def home(self):
        self.go(home.Idle(self))

    def render(self):
        self.text.show(self.screen.rows())

    def handle_key(self, key):
        self._last_key_ms = time.ticks_ms()
        self.screen.on_key(key)
        self.render()

    def handle_card(self, pan, expiry):
        """A card read: the screen asking for one takes it; elsewhere it is ignored."""
        self._last_key_ms = time.ticks_ms()
        self.screen.on_card(pan, expiry)
        self.render()

    def tick(self):
        idle_ms = time.ticks_diff(time.ticks_ms(), self._last_key_ms)
        if self.screen.times_out and idle_ms >= self.config.idle_timeout_s * 1000:
            self.home()
        self.screen.on_tick()
        self.render()

    async def run_keys(self):
        while True:
            self.handle_key(await self.queue.get())

    async def run_ticks(self):
        while True:
            await asyncio.sleep_ms(_TICK_MS)
            self.tick()



async def main(board, link=False):
    app = App(board)
    keypad = board.make_keypad(app.queue)
    if keypad is not None:
        asyncio.create_task(keypad.run())
    if link:
        import hostlink
        hostlink.HostLink(app).start()
    asyncio.create_task(app.run_ticks())
    await app.run_keys()


def run(board, link=False):
    """Runs the terminal until interrupted (Ctrl-C on the REPL ends it)."""
    asyncio.run(main(board, link))
