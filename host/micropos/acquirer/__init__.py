"""The acquirer emulator: the bank's host the terminal talks to.

``ledger`` keeps the state in SQLite, ``rules`` decides every answer,
``faults`` makes it misbehave on purpose, ``server`` puts it on TCP.
"""
from __future__ import annotations

from micropos.acquirer.faults import Fault, FaultKind, FaultPlan, parse_fault
from micropos.acquirer.ledger import Ledger, RefundableSale, Totals
from micropos.acquirer.rules import Acquirer, Code
from micropos.acquirer.server import AcquirerServer, RunningAcquirer, serve, start_in_thread

__all__ = [
    "Acquirer",
    "AcquirerServer",
    "Code",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Ledger",
    "RefundableSale",
    "RunningAcquirer",
    "Totals",
    "parse_fault",
    "serve",
    "start_in_thread",
]
