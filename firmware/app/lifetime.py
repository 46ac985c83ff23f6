"""What code is in RAM, and when it goes: the one owner of module lifetime.

An ESP32 without PSRAM has room for one flow at a time, and a send has room
only if its parts take turns.  This module alone loads a flow's code and
drops code from memory; nothing else deletes from ``sys.modules``.  It is
module functions, not a class: the app holds the module itself as
``app.lifetime``.

- What boot loaded (the app, the idle screen, the drivers, the words, the
  domain) is resident and never dropped: see ``mark_resident``.
- A flow's modules load when the merchant starts it (``FLOWS``).
- ``drop(phase)`` unloads what one phase of a send no longer needs, in the
  order a send runs: its screens once it sends, DUKPT once the message's
  keys are derived, the codec and the connection once the answer is in.
- The journal is opened on first use and closed, object and code together,
  by every drop: an open journal never outlives its module.
- ``idle()`` drops every phase's modules, the send's own included.  Only
  the firmware's own modules are ever dropped: dropping the runtime's too
  (asyncio's parts, built-ins) went with the virtual board crashing on a
  later Ctrl-C.

Exceptions that cross a drop (``JournalFull``) live in ``kinds``, which is
resident.  Every name a module uses is interned for good when it loads
(MicroPython's qstrs), so this module keeps its own names few.
"""
from micropython import const
import gc
import sys

_ROOM = const(2048)  # bytes kept free for the wire, see ``drop``

# What the menu's digits start: name -> (module, function), imported on demand.
FLOWS = {
    "sale": ("sale", "start"),
    "void": ("void", "start"),
    "refund": ("refund", "start"),
    "history": ("history", "start"),
    "settlement": ("settle", "start"),
    "reprint": ("reprint", "start"),
    "settings": ("settings", "start"),
}

# phase -> the modules that go when it ends
_PHASES = {
    "screens": ("sale", "void", "refund", "history", "reprint", "settle", "settings", "steps", "flow", "card",
                "pbkdf2"),
    "keys": ("dukpt",),
    "link": ("link", "messages", "iso8583", "cmac", "hostconn"),
    "journal": ("journal",),
    "send": ("exchange", "transmit", "reversals", "settlement", "receipt", "report", "sending"),
    "settings": ("prefs",),  # read at boot, written by the settings flow
    "clock": ("settime",),  # the echo test that sets a board's clock, once after power-on
    "wire": (),  # nothing to unload: frees the block held for the message's buffers (see drop)
}


_journal = None  # the open journal, if any
_resident = ()  # the names boot loaded, once known
_room = None  # a block held at idle and freed for the wire's turn (see drop)


def mark_resident():
    """Everything loaded now stays loaded: called once boot has loaded the terminal's base."""
    global _resident
    _resident = tuple(sys.modules)


def start_flow(app, name):
    module, function = FLOWS[name]
    getattr(__import__(module), function)(app)


def journal(board):
    """The journal on ``board``, opened (and so recovered) on first use."""
    global _journal
    if _journal is None:
        import journal as module
        partition = board.journal_partition
        if partition is None:
            raise OSError("no journal partition on this board: flash with make flash")
        _journal = module.Journal(partition)
    return _journal


def drop(phase):
    """Unloads the modules ``phase`` used (never a resident one), and closes the journal.

    Every drop closes the journal, object and code together (it reopens at
    its next use), so an open journal never outlives its module.  ``None``
    is every phase: back at idle.
    """
    global _journal, _room
    _journal = None
    if phase == "wire":
        # The message is about to be built, the fullest moment of a send, its code loaded: by now
        # the flow and the journal have left the heap in pieces too small for its larger buffers
        # (an AES context, a message's slots). The block held since boot is freed for them.
        _room = None
    if phase is None and not _resident:
        return  # boot has not said what is resident yet
    # Allocates nothing until the collection: this also runs when the heap is exhausted (App.out_of_memory).
    for more in _PHASES:
        if phase is None or more == phase or more == "journal":
            for name in _PHASES[more]:
                if name in sys.modules and name not in _resident:
                    del sys.modules[name]
    gc.collect()
    if phase is None and _room is None:  # back at idle, the heap is whole again: hold the block for the next send
        try:
            _room = bytearray(_ROOM)
        except MemoryError:  # a heap too small even for that: the send will do without
            pass


def idle():
    """Back at idle: the journal is closed and every flow's and send's modules are dropped."""
    drop(None)
