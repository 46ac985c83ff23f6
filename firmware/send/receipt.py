"""Receipts: the merchant's and the customer's copy of a transaction, as 32-column lines.

In the screen's language: 中文 goes to the printer in its GB18030 mode
(``escpos``), where each character takes two columns.
"""
from micropython import const

import clock
import kinds
import words
from money import currency, money
from textscreen import wide

_WIDTH = const(32)


def _pair(text, value):
    """``text`` and ``value`` on one line, the value flush right (a 中文 character is two columns wide)."""
    gap = _WIDTH - len(text) - wide(text) - len(value) - wide(value)
    return text + " " * (gap if gap > 0 else 1) + value


def lines(config, txn, key, reprint=False):
    """The receipt of journalled ``txn`` (with its outcome) for one copy, in ``config``'s language.

    ``key``: the copy's words ("merchant_copy", "customer_copy").
    """
    language = config.language

    def _w(key):
        return words.lookup(language, key)
    t = clock.local(txn.time, config.utc_offset_min)
    out = [config.merchant_name, _w(key) + (" " + _w("reprint") if reprint else ""), "",
           _pair(_w("merchant"), config.merchant_id), _pair(_w("terminal"), config.terminal_id),
           _w(kinds.type_name(txn.type).lower())]
    if txn.type != kinds.SETTLEMENT:
        shown = _w("no_card")
        if txn.pan:
            import card  # only for a transaction with a card
            shown = card.masked(txn.pan)
        out.append(_pair(_w("card"), shown))
    out.append(_pair(_w("date"), "%04d-%02d-%02d %02d:%02d:%02d" % (t[0], t[1], t[2], t[3], t[4], t[5])))
    out.append(_pair(_w("batch"), "%06d" % txn.batch))
    out.append(_pair(_w("voucher"), "%06d" % txn.stan))
    if txn.rrn:
        out.append(_pair(_w("rrn"), txn.rrn))
    if txn.orig_rrn:
        out.append(_pair(_w("orig"), txn.orig_rrn))
    if txn.auth_code:
        out.append(_pair(_w("auth"), txn.auth_code))
    if txn.reason and txn.type == kinds.REFUND:  # (a reversal's reason is a protocol code, not the cashier's)
        out.append(_pair(_w("reason"), _w("reason_%d" % txn.reason)))
    if txn.type != kinds.SETTLEMENT:
        out.append(_pair(_w("amount"), currency(txn.currency)[0] + " " + money(txn.amount, txn.currency)))
    words_ = _w("rc_" + txn.response_code)  # a code the table lacks is a decline, shown with its code
    if words_ == "rc_" + txn.response_code:
        words_ = _w("rc_other") % txn.response_code
    out.append(words_ if txn.response_code else _w("status_%d" % txn.status))
    if key == "merchant_copy" and txn.type in (kinds.REFUND, kinds.VOID):
        out.extend(("", _w("sign") + ":", "", "_" * _WIDTH))
    return out


def print_both(app, txn, reprint=False):
    """Merchant copy, then customer copy, on the board's printer (or the emulator's file).

    A reversal prints the merchant copy only.  (A settlement has its report instead: ``report``.)

    False when there is no printer or it failed: the transaction stands
    whatever the paper does, and history can reprint it.
    """
    printer = app.printer
    if printer is None:
        return False
    try:
        for copy_key in ("merchant_copy", "customer_copy"):
            printer.print_receipt(lines(app.config, txn, copy_key, reprint))
            if txn.type == kinds.REVERSAL:  # the terminal's own message: never a customer's receipt
                break
    except OSError:
        return False
    return True
