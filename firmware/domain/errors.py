"""Exceptions that outlive the modules that raise them.

The modules of a flow and of a send are dropped from memory between uses
(``app/lifetime.py``).  A class defined in such a module is a new class each
time the module loads again, so an ``except`` naming the class of one load
would not catch an exception raised by an object of another.  What one
layer raises and another catches is therefore defined here, in a module
that is never unloaded.
"""


class JournalFull(Exception):
    """Only unsettled records remain: new work is refused until a settlement."""


class JournalError(Exception):
    """The journal was used wrongly (an unknown seq, a batch that is not open...)."""
