"""The terminal application: one navigator, one key loop, one ticker.

Everything happens on asyncio tasks: the keypad scanner (when the board has
one) and the host link (in the emulator and under test) put keys in the
queue; the key loop hands each to the current screen and redraws.  Keys that
arrive before a screen is ready, or while a transaction is on the wire,
wait in the queue, so typing ahead loses nothing.

Memory: a flow's modules (its screens, the codec, DUKPT, the connection)
are imported when the merchant starts it and unloaded back at idle, so an
ESP32 without PSRAM holds only the one flow in use.
"""
from micropython import const
import asyncio
import gc
import sys
import time

import messages
from keys import KeyQueue
from config import Config
from textscreen import TextScreen
import home

_TICK_MS = const(1000)
_BUSY_POLL_MS = const(20)

# What the menu's digits start: (module, function).  Imported on demand.
FLOWS = {
    "sale": ("sale", "start"),
    "void": ("void", "start"),
    "refund": ("refund", "start"),
    "history": ("history", "start"),
    "settlement": ("settle", "start"),
    "reprint": ("history", "start_reprint"),
    "settings": ("settings", "start"),
}
# Loaded only while a flow runs: its screens until it sends, the wire until idle.
UI_MODULES = ("sale", "void", "refund", "history", "settle", "settings", "steps", "flow", "card", "journal")
WIRE_MODULES = ("exchange", "reversals", "link", "wire", "receipt", "iso8583", "dukpt", "cmac", "hostconn")


class App:
    ui_modules = UI_MODULES
    def __init__(self, board, config=None, flows=None):
        self.board = board
        self.config = config or Config()
        # a board may know better than the demo config (the emulator: the host's time zone)
        self.config.utc_offset_min = getattr(board, "UTC_OFFSET_MIN", self.config.utc_offset_min)
        self.config.acquirer = getattr(board, "ACQUIRER", self.config.acquirer)
        self.queue = KeyQueue()
        self.text = TextScreen(board.display)
        self.flows = FLOWS if flows is None else flows
        self.screen = None
        self._last_key_ms = time.ticks_ms()
        self._journal = None
        self.password_tries = 0
        self.locked_until_ms = 0
        self.reversals_owed = 0
        self._job = None
        self._job_ready = asyncio.Event()
        make_printer = getattr(board, "make_printer", None)
        self.printer = make_printer() if make_printer else None
        self.home()

    @property
    def initial_key(self):
        from binascii import unhexlify
        return unhexlify(self.config.initial_key)

    @property
    def initial_key_id(self):
        from binascii import unhexlify
        return unhexlify(self.config.initial_key_id)

    def journal(self):
        """The journal, opened (and so recovered) on first use."""
        if self._journal is None:
            import journal
            partition = self.board.journal_partition
            if partition is None:
                raise OSError("no journal partition on this board: flash with make flash")
            self._journal = journal.Journal(partition)
        return self._journal

    def close_journal(self):
        """Drops the journal and its code while something else needs the room; the next use reopens it."""
        self._journal = None
        self.unload(("journal",))

    def start_flow(self, name):
        module, function = self.flows[name]
        getattr(__import__(module), function)(self)

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
        self._journal = None  # reopened (bounded recovery, ~80 small reads) by the next flow
        self.unload(UI_MODULES)
        self.unload(WIRE_MODULES)

    def unload(self, names):
        """Drops modules only a flow needs (see the module docstring); they load again when next used."""
        for name in names:
            if name in sys.modules:
                del sys.modules[name]
        gc.collect()

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
            key = await self.queue.get()
            while getattr(self.screen, "busy", False):
                await asyncio.sleep_ms(_BUSY_POLL_MS)
            self.handle_key(key)

    def run_behind(self, coro):
        """Runs ``coro`` (a send, the reversals at boot) on the worker behind the screens."""
        if self._job is not None:
            raise RuntimeError("the worker is busy")
        self._job = coro
        self._job_ready.set()

    async def run_jobs(self):
        """The one worker task, for the whole run.

        A new task per send would do, but asyncio's task queue can keep a
        finished task reachable from a live one, and a finished send holds
        the codec, the connection and the journal: one long-lived worker
        leaves nothing behind.
        """
        while True:
            await self._job_ready.wait()
            self._job_ready.clear()
            job = self._job
            self._job = None
            try:
                await job
            except Exception as exc:  # the worker must outlive a broken job
                sys.print_exception(exc)
                self.home()
            job = None

    async def run_ticks(self):
        while True:
            await asyncio.sleep_ms(_TICK_MS)
            self.tick()



async def main(board, link=False):
    app = App(board)
    asyncio.create_task(app.run_jobs())
    if board.journal_partition is not None:
        if app.journal().pending_without_outcome():
            import reversals
            reversals.recover(app)
        else:
            app.home()
    keypad = board.make_keypad(app.queue)
    if keypad is not None:
        asyncio.create_task(keypad.run())
    make_reader = getattr(board, "make_card_reader", None)
    if make_reader is not None:
        asyncio.create_task(make_reader(app).run())
    if link:
        import hostlink
        hostlink.HostLink(app).start()
    asyncio.create_task(app.run_ticks())
    await app.run_keys()


def run(board, link=False):
    """Runs the terminal until interrupted (Ctrl-C on the REPL ends it)."""
    asyncio.run(main(board, link))
