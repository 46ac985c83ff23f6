"""``make run``: the acquirer with a demo ledger, and the terminal emulator, in one terminal.

The demo sales are dated the last few days, so they are always inside the
refund window; their RRN, date and amount are printed so a newcomer can
refund one at once (FUNC 3, password 123456, ...).
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

from micropos import paths
from micropos.acquirer.ledger import SEED_COLUMNS, Ledger
from micropos.acquirer.rules import DEMO_MERCHANT_ID, DEMO_TERMINAL_ID
from micropos.errors import MicroposError

DEMO_PORT = 8583
DEMO_PASSWORD = "123456"
# (rrn, days ago, amount, card)
DEMO_SALES = (
    ("612345678901", 1, "100.00", "6212345678901232"),
    ("612345678902", 2, "58.80", "4111111111111111"),
    ("612345678903", 3, "1234.56", "5555555555554444"),
)


def refund_keys(rrn: str, sale_day: date, amount_minor: str, reason: str = "1") -> list[str]:
    """The keys of a reference-only refund, as design.md lists them, up to the confirm screen.

    ``amount_minor`` is typed as is (``"1234"`` is 12.34); ENTER on the confirm screen sends.
    """
    return ["FUNC", "3", *DEMO_PASSWORD, "ENTER", "ENTER", *rrn, "ENTER", *sale_day.strftime("%m%d"), "ENTER",
            *amount_minor, "ENTER", reason]


def demo_rows(today: date) -> list[dict[str, str]]:
    rows = []
    for rrn, days_ago, amount, pan in DEMO_SALES:
        rows.append(dict(zip(SEED_COLUMNS, (
            rrn, (today - timedelta(days=days_ago)).isoformat(), amount, pan, "2812", "156",
            DEMO_TERMINAL_ID, DEMO_MERCHANT_ID), strict=False)))
    return rows


def run(args: argparse.Namespace) -> int:
    from micropos.acquirer.server import start_in_thread
    from micropos.acquirer_cli import print_refundable

    if not sys.stdin.isatty():
        raise MicroposError("make run is interactive and needs a terminal; "
                            "for a run with no person use: micropos emulator --script FILE")
    db = paths.VAR / "demo" / "ledger.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(db) as ledger:  # the server thread opens its own connection
        ledger.seed_rows(demo_rows(date.today()), source="demo")
        sales = ledger.refundable_sales()
    try:
        acquirer = start_in_thread(db, port=DEMO_PORT)
    except OSError as exc:
        raise MicroposError(f"cannot listen on 127.0.0.1:{DEMO_PORT} for the acquirer: {exc.strerror}") from exc
    with acquirer:
        print(f"acquirer emulator on 127.0.0.1:{DEMO_PORT}, ledger {db}; refundable sales:")
        print_refundable(sales, sys.stdout)
        input("press Enter to start the terminal (supervisor password 123456) ")
        from micropos import emulator_cli

        parser = argparse.ArgumentParser()
        emulator_cli.add_parser(parser.add_subparsers())
        return emulator_cli.run(parser.parse_args(["emulator", "--acquirer", f"127.0.0.1:{DEMO_PORT}"]))
