"""What code is in RAM, and when it goes: the one owner of module lifetime.

An ESP32 without PSRAM has room for one flow at a time, and a send has room
only if its parts take turns.  This module alone loads a flow's code and
drops code from memory; nothing else deletes from ``sys.modules``.

- What boot loaded (the app, the idle screen, the drivers, the words, the
  domain, ``errors``) is resident and never dropped: see ``mark_resident``.
- A flow's modules load when the merchant starts it (``FLOWS``).
- ``drop(phase)`` unloads what one phase of a send no longer needs, in the
  order a send runs: its screens once it sends, DUKPT once the message's
  keys are derived, the codec and the connection once the answer is in.
- The journal is opened on first use and closed, object and code together,
  whenever its phase ends: an open journal never outlives its module.
- ``idle()`` drops everything loaded since boot.

Exceptions that cross a drop live in ``errors``, which is resident.
"""
import gc
import sys

# What the menu's digits start: name -> (module, function), imported on demand.
FLOWS = {
    "sale": ("sale", "start"),
    "void": ("void", "start"),
    "refund": ("refund", "start"),
    "history": ("history", "start"),
    "settlement": ("settle", "start"),
    "reprint": ("history", "start_reprint"),
    "settings": ("settings", "start"),
}

# phase -> the modules that go when it ends
_PHASES = {
    "screens": ("sale", "void", "refund", "history", "settle", "settings", "steps", "flow", "card"),
    "keys": ("dukpt",),
    "link": ("link", "messages", "iso8583", "cmac", "hostconn"),
    "journal": ("journal", "queries"),
}


class Lifetime:
    def __init__(self, board):
        self._board = board
        self._journal = None
        self._resident = None  # names loaded at boot, once known

    def mark_resident(self):
        """Everything loaded now stays loaded: called once boot has loaded the terminal's base."""
        self._resident = tuple(sys.modules)

    def start_flow(self, app, name):
        module, function = FLOWS[name]
        getattr(__import__(module), function)(app)

    def journal(self):
        """The journal, opened (and so recovered) on first use."""
        if self._journal is None:
            import journal
            partition = self._board.journal_partition
            if partition is None:
                raise OSError("no journal partition on this board: flash with make flash")
            self._journal = journal.Journal(partition)
        return self._journal

    def drop(self, phase):
        """Unloads the modules ``phase`` used (never a resident one); dropping the screens closes the journal too."""
        if phase == "journal" or phase == "screens":
            self._journal = None
            self._unload(_PHASES["journal"])
        self._unload(_PHASES[phase])
        gc.collect()

    def idle(self):
        """Back at idle: the journal is closed and everything loaded since boot is dropped."""
        self._journal = None
        resident = self._resident
        if resident is not None:
            for name in tuple(sys.modules):
                if name not in resident:
                    del sys.modules[name]
        gc.collect()

    def _unload(self, names):
        resident = self._resident or ()
        for name in names:
            if name in sys.modules and name not in resident:
                del sys.modules[name]
