"""The requests of the micropos-8583 profile, built from the message-kind table.

Which fields a request carries, its MTI and its processing code are
``kinds.TABLE`` (docs/protocol.md, "Messages"); ``_value`` gives each field's
value, so sale, refund, void, reversal and settlement differ only in their
row.  A field the table marks optional is left out when it has no value (no
card on a reference-only refund, no original on a sale's reversal); a
mandatory one without a value is a bug, and raises.
"""
import clock
import kinds


def _value(de, job, config):
    txn = job.txn
    upload = job.kind == 7  # kinds.TABLE's UPLOAD: one transaction of a batch the acquirer disputed
    if de == 2:  # an upload's is the journalled PAN, masked as first 6 + 6 stars + last 4 (ans16)
        return txn.pan[:6] + "*" * 6 + txn.pan[-4:] if upload and txn.pan else job.pan
    if de == 3:  # a reversal or an upload repeats its transaction's
        return kinds.processing_code(job.kind) or kinds.processing_code(txn.type)
    if de == 4:
        return txn.amount
    if de == 7:  # the transmission's time: an upload is a new transmission of an old transaction
        t = clock.utc(clock.now() if upload else txn.time)
        return "%02d%02d%02d%02d%02d" % (t[1], t[2], t[3], t[4], t[5])
    if de == 11:
        return txn.stan
    if de == 12 or de == 13:
        t = clock.local(txn.time, config.utc_offset_min)
        return "%02d%02d%02d" % (t[3], t[4], t[5]) if de == 12 else "%02d%02d" % (t[1], t[2])
    if de == 14:
        return job.expiry
    if de == 22:
        return kinds.ENTRY_CODES[txn.entry]
    if de == 25:
        return "00"
    if de == 37:  # an upload names the transaction by its own RRN; a refund, void or reversal, its original's
        return txn.rrn if upload else txn.orig_rrn
    if de == 39:
        return "%02d" % job.reversal_reason
    if de == 41:
        return config.terminal_id
    if de == 42:
        return config.merchant_id
    if de == 49:
        return txn.currency
    if de == 53:
        return job.ksn_hex
    if de == 60:
        return txn.batch
    if de == 61:
        if txn.type == kinds.REFUND:
            return "000000000000%04d" % txn.orig_date
        if txn.type == kinds.VOID:
            sale = job.original
            if sale is None:
                return "000000000000%04d" % txn.orig_date
            return "%06d%06d%04d" % (sale.batch, sale.stan, clock.local_mmdd(sale.time, config.utc_offset_min))
        return ""
    if de == 62:
        return "%02d" % txn.reason
    if de == 63:
        return totals_field(job.totals)
    raise ValueError("DE %d has no value" % de)


def fill(msg, job, config):
    """Clears ``msg`` and fills it as ``job`` says (DE 64 is the encoder's, with the MAC)."""
    msg.clear()
    msg.set(0, kinds.mti(job.kind))
    for de, optional in kinds.request_fields(job.kind):
        if de == 64:
            continue
        value = _value(de, job, config)
        if value is None or isinstance(value, str) and not value:
            if optional:
                continue
            raise ValueError("DE %d: no value for a %s" % (de, kinds.type_name(job.kind)))
        msg.set(de, value)


def totals_field(totals):
    """DE 63 from journal totals {type: (count, amount)}: sales, refunds, voids, each n3 + n12."""
    out = ""
    for kind in (kinds.SALE, kinds.REFUND, kinds.VOID):
        count, amount = totals.get(kind, (0, 0))
        out += "%03d%012d" % (count, amount)
    return out


def echoed(request):
    """What an answer must echo of ``request``: its MTI, DE 11, DE 41 and DE 4 (when it has one), as one bytes.

    Kept apart so that the answer can be decoded into the request's own
    message: one message's buffers in the heap at the fullest moment, not two.
    """
    out = bytes(request.get(0)) + bytes(request.get(11)) + bytes(request.get(41))
    return out + bytes(request.get(4)) if request.has(4) else out


def answers(sent, response):
    """Whether ``response`` answers the request ``sent`` was taken from (``echoed``): MTI + 10, DE 11, 41 and 4."""
    got = response.get(0)
    if got is None or got[0] != sent[0] or got[1] != sent[1] or got[2] != sent[2] + 1 or got[3] != sent[3]:
        return False
    at = 4
    for de, size in ((11, 6), (41, 8), (4, 12)):
        if at == len(sent):
            return True  # the request carried no DE 4
        value = response.get(de)
        if value is None or len(value) != size or bytes(value) != sent[at:at + size]:
            return False
        at += size
    return True
