"""The terminal application: one navigator, one key loop, one ticker, one worker.

Everything happens on asyncio tasks: the keypad scanner (when the board has
one) and the host link (in the emulator and under test) put keys in the
queue; the key loop hands each to the current screen and redraws.  Keys that
arrive before a screen is ready, or while a transaction is on the wire,
wait in the queue, so typing ahead loses nothing.  Sends run on the one
worker task behind the progress screen.

Memory: what is loaded and when it goes is decided in one place,
``lifetime``: a flow's modules load when the merchant starts it and go at
idle, and a send's parts take turns.
"""
from micropython import const
import asyncio
import sys
import time

import kinds  # noqa: F401 - resident: the vocabulary every layer shares, and JournalFull (see lifetime)
import words
from config import Config
from keys import KeyQueue
import lifetime
from textscreen import TextScreen
import home

_TICK_MS = const(1000)
_BUSY_POLL_MS = const(20)


class App:
    def __init__(self, board, config=None):
        self.board = board
        self.config = config or Config()
        # a board may know better than the demo config (the emulator: the host's time zone)
        self.config.utc_offset_min = getattr(board, "UTC_OFFSET_MIN", self.config.utc_offset_min)
        self.config.acquirer = getattr(board, "ACQUIRER", self.config.acquirer)
        if getattr(board, "SETTINGS_FILE", None):  # what the merchant chose, kept on flash
            import prefs
            prefs.load(self.config, board.SETTINGS_FILE)
            prefs = None
            lifetime.drop("settings")  # read once at boot; the settings flow loads it again to save
        # Locked when the power went: locked again for a whole lock time (a reboot never lifts it)
        self.locked_until_ms = time.ticks_add(time.ticks_ms(), self.config.lock_minutes * 60000) \
            if self.config.locked else 0
        self.queue = KeyQueue()
        self.text = TextScreen(board.display)
        self.lifetime = lifetime  # the one owner of what is loaded (a module, resident)
        self.screen = None
        self._last_key_ms = time.ticks_ms()
        self.reversals_owed = 0
        self._job = None
        self._job_ready = asyncio.Event()
        make_printer = getattr(board, "make_printer", None)
        self.printer = make_printer() if make_printer else None

    @property
    def initial_key(self):
        from binascii import unhexlify
        return unhexlify(self.config.initial_key)

    @property
    def initial_key_id(self):
        from binascii import unhexlify
        return unhexlify(self.config.initial_key_id)

    def journal(self):
        """The journal, opened (and so recovered) on first use; ``lifetime`` closes it."""
        return lifetime.journal(self.board)

    def start_flow(self, name):
        lifetime.start_flow(self, name)

    def t(self, key):
        return words.lookup(self.config.language, key)

    def go(self, screen):
        if self.screen is not None:
            self.screen.on_hide()
        self.screen = screen
        screen.on_open()
        self.render()

    def home(self):
        self.go(home.Idle(self))
        lifetime.idle()  # the journal reopens (bounded recovery, ~80 small reads) at the next use

    def render(self):
        self.text.show(self.screen.rows())

    def handle_key(self, key):
        self._last_key_ms = time.ticks_ms()
        try:
            if self.screen is None:  # out of memory even for its message last time: try that again
                raise MemoryError
            self.screen.on_key(key)
            self.render()
        except MemoryError:
            self.out_of_memory()

    def handle_card(self, pan, expiry):
        """A card read: the screen asking for one takes it; elsewhere it is ignored."""
        self._last_key_ms = time.ticks_ms()
        try:
            if self.screen is None:
                raise MemoryError
            self.screen.on_card(pan, expiry)
            self.render()
        except MemoryError:
            self.out_of_memory()

    def tick(self):
        idle_ms = time.ticks_diff(time.ticks_ms(), self._last_key_ms)
        try:
            if self.screen is None:
                raise MemoryError
            if self.screen.times_out and idle_ms >= self.config.idle_timeout_s * 1000:
                self.home()
            self.screen.on_tick()
            self.render()
        except MemoryError:
            self.out_of_memory()

    def out_of_memory(self):
        """Running out of memory never stops the terminal: the flow in progress is abandoned, with a message.

        Everything a flow loaded goes (``lifetime.idle``), and the cashier is
        told to try again; a send that ran out is handled by the send itself
        (``_send``: what it journalled as pending is reversed, as after a power cut).
        When not even the message fits, the screen stays None and the next
        key or tick tries again: the terminal never stops.
        """
        self.screen = None
        self.queue.clear()  # keys typed ahead for the abandoned flow must not drive another one
        lifetime.idle()
        from screens import Notice  # resident: no memory needed to load it
        try:
            self.go(Notice(self, (self.t("title"), "", self.t("no_memory"), self.t("try_again"), "", "", "",
                                  self.t("any_key"))))
        except MemoryError:  # not even that: idle, which boot could show
            self.screen = None
            try:
                self.go(home.Idle(self))
            except MemoryError:
                self.screen = None

    async def run_keys(self):
        """Hands each key to the screen; a busy screen makes keys wait, or drops them (see ``send``)."""
        while True:
            key = await self.queue.get()
            if getattr(self.screen, "drops_keys", False):
                continue
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
            if job is None:
                continue
            try:
                await job
            except Exception as exc:  # the worker must outlive a broken job
                sys.print_exception(exc)
                exc = None
                self.out_of_memory()  # the words for a job that broke too: abandoned, try again
            job = None

    def send(self, job, title_key):
        """Sends ``job`` behind a progress screen; its outcome is drawn when it is known.

        Keys pressed after the ENTER that sends, until the outcome appears,
        are dropped, so none can dismiss an outcome the cashier has not seen
        (design.md); keys typed while a reversal owed at boot goes out wait.
        """
        from sending import Progress
        progress = Progress(self, title_key)
        progress.drops_keys = True
        self.queue.clear()
        self.run_behind(self._send(job, progress))
        self.go(progress)
        return progress

    async def _send(self, job, progress):
        # The entry screens are done with: room for the wire.  Dropped here, on the worker, once
        # the key that sent has been handled: before that its frames still hold the flow's code.
        lifetime.drop("screens")
        title = progress.title
        try:
            import exchange
            outcome = await exchange.send(self, job, progress.set_stage)
        except Exception as exc:  # the terminal must come back to the merchant, whatever broke
            sys.print_exception(exc)
            from transmit import Outcome
            outcome = Outcome("no_memory" if isinstance(exc, MemoryError) else "broken", code=str(exc))
            exc = None
            lifetime.drop(None)  # what the broken send loaded goes first: room to journal its reversal
            try:  # sent or not, what it left journalled without an outcome is reversed, as after a power cut
                import reversals
                reversals.queue_lost(self)
            except Exception as again:  # out of memory again, say: the next send looks again first
                sys.print_exception(again)
                self.reversals_owed += 1
        exchange = reversals = None
        import sending
        self.go(sending.screen(self, title, outcome))

    def recover(self):
        """At boot: a transaction a power cut left without an outcome is reversed before anything else."""
        from sending import Progress
        progress = Progress(self, "reversal")
        self.go(progress)
        self.run_behind(self._recover(progress))

    async def _recover(self, progress):
        import reversals
        why = await reversals.deliver(self, progress.set_stage)  # journals first what the power cut left
        reversals = None
        if why is None or why == "reversal_sent":
            self.home()
        else:
            import sending
            self.go(sending.notice(self, "reversal", self.t("reversal_pending"), *sending.reversal(self, why)))

    async def run_ticks(self):
        while True:
            await asyncio.sleep_ms(_TICK_MS)
            self.tick()



async def main(board, link=False):
    app = App(board)
    asyncio.create_task(app.run_jobs())
    keypad = board.make_keypad(app.queue)
    if keypad is not None:
        asyncio.create_task(keypad.run())
    make_reader = getattr(board, "make_card_reader", None)
    if make_reader is not None:
        asyncio.create_task(make_reader(app).run())
    host = None
    if link:
        import hostlink
        host = hostlink.HostLink(app)
    asyncio.create_task(app.run_ticks())
    lifetime.mark_resident()
    # What a power cut left without an outcome is reversed before anything else.
    if board.journal_partition is not None and app.journal().pending_without_outcome():
        app.recover()
    else:
        app.home()
    if host is not None:
        host.start()
    await app.run_keys()


def run(board, link=False):
    """Runs the terminal until interrupted (Ctrl-C on the REPL ends it).

    A fresh event loop first: a run stopped by Ctrl-C leaves its tasks in
    asyncio's queues, and they would wake up in this one (the old host
    link reading the new one's commands).
    """
    asyncio.new_event_loop()
    asyncio.run(main(board, link))
