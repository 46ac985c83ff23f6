"""Printed reports: the settlement report (结算单) and the detail list (明细) of the open batch.

The merchant's copies only, on the receipt printer, in the screen's
language, 32 columns.  Lines are made as the printer takes them (a
generator): a batch of 500 is never a list of 500 strings in the heap.
The totals are read back from the journal (approved sales, refunds and
voids of the batch, as DE 63 counts them; the net is sales - refunds -
voids): the batch's records outlive its settlement until a full journal
needs their room (the oldest settled sectors go first).
"""
import clock
import kinds
import words
from money import currency, money
from receipt import _pair

def _head(config, title, reprint, batch, time):
    w = words.lookup
    language = config.language
    t = clock.local(time, config.utc_offset_min)
    yield config.merchant_name
    yield w(language, title) + (" " + w(language, "reprint") if reprint else "")
    yield w(language, "merchant_copy")
    yield ""
    yield _pair(w(language, "merchant"), config.merchant_id)
    yield _pair(w(language, "terminal"), config.terminal_id)
    yield _pair(w(language, "batch"), "%06d" % batch)
    yield _pair(w(language, "date"), "%04d-%02d-%02d %02d:%02d:%02d" % (t[0], t[1], t[2], t[3], t[4], t[5]))


def _settlement_lines(app, txn, reprint):
    config = app.config
    language = config.language
    sums = {}
    for one in app.journal().history():  # newest first: the batch's records are those just before its settlement
        if one.seq >= txn.seq:
            continue
        if one.batch != txn.batch:
            break
        if one.status == kinds.APPROVED and one.type in (kinds.SALE, kinds.REFUND, kinds.VOID):
            count, amount = sums.get(one.type, (0, 0))
            sums[one.type] = (count + 1, amount + one.amount)
    yield from _head(config, "settle_report", reprint, txn.batch, txn.time)
    yield ""
    symbol = currency(config.currency)[0]
    net = 0
    for i in range(3):
        kind, key = (kinds.SALE, kinds.REFUND, kinds.VOID)[i], ("sales", "refunds", "voids")[i]
        count, amount = sums.get(kind, (0, 0))
        net += amount if kind == kinds.SALE else -amount
        yield _pair("%s %d" % (words.lookup(language, key), count), "%s %s" % (symbol, money(amount, config.currency)))
    yield _pair(words.lookup(language, "net"), "%s %s" % (("-" if net < 0 else "") + symbol,
                                                        money(-net if net < 0 else net, config.currency)))
    yield ""
    yield _pair(words.lookup(language, "rrn"), txn.rrn)
    # the acquirer's totals agreed, or differed (95) and the batch upload closed the batch
    yield words.lookup(language, "uploaded" if txn.response_code != "00" else "balanced")  # approved all the same


def _print(app, lines):
    """``lines`` on the printer: False without one, or when it failed (the paper never decides a transaction)."""
    if app.printer is None:
        return False
    try:
        app.printer.print_receipt(lines)
    except OSError:
        return False
    return True


def settlement(app, txn, reprint=False):
    """The settlement report of journalled settlement ``txn``; False without a printer (or when it failed)."""
    return _print(app, _settlement_lines(app, txn, reprint))


def _detail_lines(app):
    config = app.config
    language = config.language
    journal = app.journal()
    batch = journal.batch
    yield from _head(config, "detail", False, batch, clock.now())
    yield ""
    for txn in journal.history():
        if txn.batch != batch:
            break
        if txn.type == kinds.REVERSAL or txn.type == kinds.SETTLEMENT:
            continue
        status = "status_%d" % txn.status
        if txn.type == kinds.SALE and txn.status == kinds.APPROVED and journal.refundable(txn) < 0:
            status = "status_%d" % 5  # voided (a screen's and a report's word, never journalled)
        yield _pair("%06d %s" % (txn.stan, words.lookup(language, kinds.type_name(txn.type).lower())),
                    "%s %s" % (money(txn.amount, txn.currency), words.lookup(language, status)))


def detail(app):
    """The detail list of the open batch: a line a transaction, newest first; False without a printer."""
    return _print(app, _detail_lines(app))
