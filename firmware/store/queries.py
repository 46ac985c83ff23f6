"""Questions the flows and the sends ask of the journal: a record by position, a sale by RRN, what is left to refund."""
import kinds


def nth(journal, index):
    """The index-th transaction, newest first (reversals included), or None."""
    i = 0
    for txn in journal.history():
        if i == index:
            return txn
        i += 1
    return None


def find_sale(journal, rrn):
    """The approved sale with this RRN in the open batch (what a void may cancel), or None."""
    for txn in journal.history():
        if txn.batch != journal.batch:
            return None
        if txn.type == kinds.SALE and txn.status == kinds.APPROVED and txn.rrn == rrn:
            return txn
    return None


def refundable(journal, sale):
    """What is left to refund of ``sale``: its amount less the approved refunds of it in the journal."""
    left = sale.amount
    for txn in journal.history():
        if txn.seq <= sale.seq:
            break
        if txn.type == kinds.REFUND and txn.status == kinds.APPROVED and txn.orig_rrn == sale.rrn:
            left -= txn.amount
    return left if left > 0 else 0
