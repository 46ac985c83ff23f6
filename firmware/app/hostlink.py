"""The host link: the terminal driven and read over its console (stdin/stdout).

The emulator, the HIL harness and a person with a serial console all talk
to the running app through this: one command a line in, one event a line
out.  Outgoing lines start with ``~`` so they stand out from anything else
the firmware prints.

In:   key NAME...        press logical keys (design names: 0-9 ENTER CANCEL ...)
      card PAN=YYMM      a card read by the reader (swipe or tap)
      shot               send the panel's pixels
      set NAME VALUE     change a setting for this run (e.g. idle_timeout_s 2)
      sync               answer once every key sent so far has been handled
      heap               report the heap
      heap FREE          hold the heap until at most FREE bytes are left (tests running out of
                         memory at a chosen moment); heap 0 lets it all go again
      modules            list the modules loaded (flows load and unload theirs)
      flash              report the flash chip's counters (boards that count)
      screen             send the current screen again
Out:  ~ready BOARD
      ~flash reads=N programs=N program_bytes=N erases=N
      ~scr ROW<TAB>ROW...   every new screen
      ~clip ROW             after it: a row that did not fit the panel (cut)
      ~fb HEX               1024 bytes, MONO_VLSB, page by page
      ~heap FREE ALLOC
      ~modules NAME...
      ~ok CMD | ~err MESSAGE
"""
from micropython import const
import asyncio
import binascii
import gc
import select
import sys

import keys

_POLL_MS = const(20)


class HostLink:
    def __init__(self, app):
        self.app = app

    def start(self):
        self.app.text.listener = self.send_screen
        self.send("~ready " + self.app.board.NAME)
        self.send_screen(self.app.text.rows)
        return asyncio.create_task(self.run())

    def send(self, line):
        sys.stdout.write(line)
        sys.stdout.write("\n")

    def send_screen(self, rows):
        self.send("~scr " + "\t".join(rows))
        text = self.app.text
        if text.clipped is not None:  # a row that did not fit the panel: a layout bug to fix
            self.send("~clip " + text.clipped)
            text.clipped = None

    async def run(self):
        """Reads the host's commands, a line at a time.

        The input is polled rather than read through asyncio's streams: their
        module would take 1.7 KB of the heap for as long as the link runs, and
        the host always sends whole lines.
        """
        poller = select.poll()
        poller.register(sys.stdin, select.POLLIN)
        while True:
            for _ in poller.ipoll(0):
                break
            else:
                await asyncio.sleep_ms(_POLL_MS)
                continue
            line = sys.stdin.readline()
            if not line:
                return  # the host closed its end
            try:
                await self.handle(line.strip())
            except ValueError as exc:
                self.send("~err " + str(exc))

    async def handle(self, line):
        if not line:
            return
        words = line.split()
        cmd = words[0]
        if cmd == "key":
            codes = [keys.by_name(name) for name in words[1:]]  # all or nothing
            for code in codes:
                await self.app.queue.space()
                self.app.queue.put(code)
        elif cmd == "card" and len(words) == 2:
            pan, _, expiry = words[1].partition("=")
            if not (pan.isdigit() and expiry.isdigit() and len(expiry) == 4):
                raise ValueError("card takes PAN=YYMM")
            self.app.handle_card(pan, expiry)
        elif cmd == "shot":
            self.send("~fb " + binascii.hexlify(self.app.board.panel_pixels()).decode())
        elif cmd == "set" and len(words) == 3:
            self.app.config.set(words[1], words[2])
            self.send("~ok " + cmd)
        elif cmd == "sync":
            while len(self.app.queue):
                await asyncio.sleep_ms(5)
            self.send("~ok " + cmd)
        elif cmd == "heap":
            if len(words) == 2:
                # held in ``_buf``, a name the firmware already has: every new name costs a qstr for good
                self._buf = None
                gc.collect()
                try:  # a chain of small blocks, not one list: a growing list needs ever larger blocks
                    while int(words[1]) and gc.mem_free() > int(words[1]):
                        self._buf = (self._buf, bytearray(256))
                except MemoryError:  # the rest is in pieces smaller than a block: held as much as could be
                    pass
            gc.collect()
            self.send("~heap %d %d" % (gc.mem_free(), gc.mem_alloc()))
        elif cmd == "modules":
            self.send("~modules " + " ".join(sorted(sys.modules)))
        elif cmd == "flash":
            f = getattr(self.app.board, "flash", None)
            if f is None or not hasattr(f, "counts"):
                raise ValueError("this board does not count flash writes")
            self.send("~flash reads=%d programs=%d program_bytes=%d erases=%d"
                      % (f.counts[0], f.counts[2], f.counts[3], f.counts[4]))
        elif cmd == "screen":
            self.send_screen(self.app.text.rows)
        else:
            raise ValueError("unknown command '%s'" % line)
