"""The journal on the emulator's NOR flash: format, power cuts at every write, recovery cost, capacity."""
import os

import journal as J
import kinds as K

from sim_flash import FileFlash, PowerCut
from fakes import fresh_flash, scratch_path

# FileFlash.counts, in order
READS, READ_BYTES, PROGRAMS, PROGRAM_BYTES, ERASES = range(5)

_PATH = scratch_path("journal")
_BLOCK = 4096


def _in_use(j):
    """Sectors holding records (a generation number)."""
    return sum(1 for g in j._gen if g)


def _fresh(sectors=4):
    return fresh_flash(_PATH, sectors)


def _reboot(sectors=4):
    """A new device object and journal on the same file: what the terminal sees after power returns."""
    dev = FileFlash(_PATH, sectors)
    return dev, J.Journal(dev)


def _refund(stan=1, amount=1234):
    return K.Txn(type=K.REFUND, amount=amount, currency=156, stan=stan, time=1762855200 + stan,
                 pan="6212345678901234567", entry=K.ENTRY_SWIPE, reason=1, orig_rrn="612345678901", orig_date=1111)


def _sale(stan=1, amount=500):
    return K.Txn(type=K.SALE, amount=amount, stan=stan, time=1762855000 + stan, pan="4111111111111111",
                 entry=K.ENTRY_KEYED)


def _rrn(seq):
    return "{:012d}".format(400000000000 + seq)


# --- format ------------------------------------------------------------------

def test_pending_record_round_trip():
    buf = bytearray(64)
    J.encode_pending(buf, 77, _refund(stan=123456, amount=4294967295))
    assert buf[0] == 0x67
    assert J.record_ok(buf, 0, 39)
    t = J.decode_pending(buf, 0, K.Txn())
    assert (t.seq, t.type, t.amount, t.currency, t.stan) == (77, K.REFUND, 4294967295, 156, 123456)
    assert (t.entry, t.reason, t.orig_rrn, t.orig_date, t.time) == (
        K.ENTRY_SWIPE, 1, "612345678901", 1111, 1762855200 + 123456)
    assert t.pan == "621234*********4567"
    assert t.status == K.PENDING


def test_outcome_record_round_trip():
    buf = bytearray(64)
    J.encode_outcome(buf, 9, K.DECLINED, "A1b2C3d4E5f6", "Xy0 9", "64")
    assert buf[0] == 0x99 and J.record_ok(buf, 0, 25)
    t = J.decode_outcome(buf, 0, K.Txn())
    assert (t.status, t.rrn, t.auth_code, t.response_code) == (K.DECLINED, "A1b2C3d4E5f6", "Xy0 9", "64")
    J.encode_outcome(buf, 9, K.FAILED, "", "", "")
    t = J.decode_outcome(buf, 0, K.Txn())
    assert (t.status, t.rrn, t.auth_code, t.response_code) == (K.FAILED, "", "", "")


def test_characters_outside_the_charset_become_dashes():
    buf = bytearray(64)
    J.encode_outcome(buf, 1, K.APPROVED, "12/34", "a_b", "0!")
    t = J.decode_outcome(buf, 0, K.Txn())
    assert (t.rrn, t.auth_code, t.response_code) == ("12-34", "a-b", "0-")


def test_a_refund_lifecycle_fits_in_64_bytes():
    dev = _fresh()
    j = J.Journal(dev)
    j.append_pending(_sale())  # opens the first sector
    before = dev.counts[PROGRAM_BYTES]
    seq = j.append_pending(_refund())
    j.set_outcome(seq, K.APPROVED, _rrn(seq), "123456", "00")
    assert dev.counts[PROGRAM_BYTES] - before == 64


def test_no_card_and_no_reference():
    buf = bytearray(64)
    J.encode_pending(buf, 1, K.Txn(type=K.SETTLEMENT, amount=0))
    t = J.decode_pending(buf, 0, K.Txn())
    assert (t.pan, t.orig_rrn, t.orig_date, t.entry) == ("", "", 0, K.ENTRY_NONE)


def test_out_of_range_fields_are_refused():
    buf = bytearray(64)
    for bad in (K.Txn(amount=-1), K.Txn(amount=1 << 32), K.Txn(stan=1 << 24), K.Txn(currency=1024),
                K.Txn(pan="12345"), K.Txn(pan="41111111111X1111"), K.Txn(reason=200)):
        try:
            J.encode_pending(buf, 1, bad)
        except ValueError:
            continue
        assert False, "accepted {}".format(bad)


def test_only_first6_last4_of_the_pan_reach_the_flash():
    dev = _fresh()
    j = J.Journal(dev)
    j.append_pending(_refund())
    dev.close()
    with open(_PATH, "rb") as f:
        image = f.read()
    assert b"6212345678901234567" not in image
    assert b"\x78\x90\x12\x34" not in image  # the middle digits, in BCD
    assert b"\x62\x12\x34" in image and b"\x45\x67" in image


def test_corrupt_record_in_a_sector_is_skipped_and_the_rest_kept():
    dev = _fresh()
    j = J.Journal(dev)
    seqs = [j.append_pending(_sale(stan=i)) for i in range(1, 4)]
    # flip one bit inside the second record's amount (records start at 32, 39 bytes each)
    flip = bytearray(1)
    dev.readblocks(0, flip, 32 + 39 + 10)
    flip[0] &= 0xFE if flip[0] & 1 else 0x00
    dev.writeblocks(0, flip, 32 + 39 + 10)
    _, j = _reboot()
    assert [t.seq for t in j.history()] == [seqs[2], seqs[0]]
    seq = j.append_pending(_sale(stan=4))
    _, j = _reboot()
    assert [t.seq for t in j.history()] == [seq, seqs[2], seqs[0]]


def test_truncated_record_at_the_end_is_invisible_and_padded_over():
    dev = _fresh()
    j = J.Journal(dev)
    first = j.append_pending(_sale(stan=1))
    buf = bytearray(64)
    J.encode_pending(buf, 2, _sale(stan=2))
    dev.writeblocks(0, memoryview(buf)[:20], 32 + 39)  # a write torn after 20 bytes
    dev, j = _reboot()
    assert [t.seq for t in j.history()] == [first]
    seq = j.append_pending(_sale(stan=3))
    assert seq == 2  # the torn record was never acknowledged: its seq is free again
    dev, j = _reboot()
    assert [(t.seq, t.stan) for t in j.history()] == [(2, 3), (1, 1)]


def test_garbage_header_sector_is_treated_as_free():
    dev = _fresh()
    dev.writeblocks(1, b"MPJ\x01garbage-garbage-garbage", 0)
    j = J.Journal(dev)
    assert not any(j._gen), "a sector of garbage is not a sector in use"
    j.append_pending(_sale())
    _, j = _reboot()
    assert [t.stan for t in j.history()] == [1]


# --- write-ahead use -----------------------------------------------------------

def test_pending_without_outcome_survives_reboot_until_reversed():
    dev = _fresh()
    j = J.Journal(dev)
    done = j.append_pending(_sale(stan=1))
    j.set_outcome(done, K.APPROVED, _rrn(done), "000111", "00")
    lost = j.append_pending(_refund(stan=2))
    _, j = _reboot()
    assert [t.seq for t in j.pending_without_outcome()] == [lost]
    orphan = j.pending_without_outcome()[0]
    reversal = K.Txn(type=K.REVERSAL, amount=orphan.amount, stan=orphan.stan, time=orphan.time, reason=98)
    rev = j.append_pending(reversal)
    _, j = _reboot()
    assert [(t.seq, t.type) for t in j.pending_without_outcome()] == [(lost, K.REFUND), (rev, K.REVERSAL)]
    j.set_outcome(rev, K.APPROVED, "", "", "00")
    j.set_outcome(lost, K.REVERSED)
    _, j = _reboot()
    assert j.pending_without_outcome() == []
    assert j.status(lost) == K.REVERSED and j.status(done) == K.APPROVED and j.status(rev) == K.APPROVED


def test_history_is_newest_first_with_the_latest_status():
    dev = _fresh()
    j = J.Journal(dev)
    a = j.append_pending(_sale(stan=1))
    j.set_outcome(a, K.APPROVED, _rrn(a), "A00001", "00")
    b = j.append_pending(_refund(stan=2))
    j.set_outcome(b, K.DECLINED, _rrn(b), "", "64")
    c = j.append_pending(_sale(stan=3))
    j.set_outcome(c, K.APPROVED, _rrn(c), "A00003", "00")
    j.set_outcome(a, K.REVERSED, _rrn(a), "A00001", "00")
    rows = [(t.seq, t.status, t.rrn, t.response_code) for t in j.history()]
    assert rows == [(c, K.APPROVED, _rrn(c), "00"), (b, K.DECLINED, _rrn(b), "64"), (a, K.REVERSED, _rrn(a), "00")]
    assert j.find(b).type == K.REFUND and j.find(99) is None


def test_totals_count_approved_of_the_open_batch():
    dev = _fresh()
    j = J.Journal(dev)
    for stan, amount, status in ((1, 1000, K.APPROVED), (2, 250, K.DECLINED), (3, 700, K.APPROVED)):
        seq = j.append_pending(_sale(stan=stan, amount=amount))
        j.set_outcome(seq, status, _rrn(seq), "", "00")
    seq = j.append_pending(_refund(stan=4, amount=300))
    j.set_outcome(seq, K.APPROVED, _rrn(seq), "", "00")
    assert j.totals() == {K.SALE: (2, 1700), K.REFUND: (1, 300)}
    j.mark_settled(j.batch)
    assert j.batch == 2 and j.totals() == {}
    _, j = _reboot()
    assert j.batch == 2


def test_settling_the_wrong_batch_is_refused():
    j = J.Journal(_fresh())
    try:
        j.mark_settled(7)
    except J.JournalError:
        return
    assert False


def test_lockout_is_journalled_as_a_mark():
    dev = _fresh()
    j = J.Journal(dev)
    j.note_lockout(3)
    seq = j.append_pending(_sale())
    assert seq == 2  # the mark took seq 1
    _, j = _reboot()
    assert j.next_seq == 3


# --- power cuts ------------------------------------------------------------------

def _fill_head_until(j, free_bytes_left):
    """Appends settled-looking sales until the head sector has about free_bytes_left bytes."""
    stan = 1000
    while _BLOCK - j._used > free_bytes_left + 64:
        stan += 1
        seq = j.append_pending(_sale(stan=stan))
        j.set_outcome(seq, K.APPROVED, _rrn(seq), "111111", "00")


def _scenario_empty(dev):
    return J.Journal(dev)


def _room(j):
    return _BLOCK - j._used


def _scenario_outcome_opens_a_sector(dev):
    """The refund's pending fits in the head sector, its outcome does not."""
    j = J.Journal(dev)
    first = j.append_pending(_sale(stan=1))
    j.set_outcome(first, K.APPROVED, _rrn(first), "111111", "00")
    while _room(j) >= 2 * 64:
        seq = j.append_pending(K.Txn(type=K.REVERSAL, stan=2))  # reversals may use the reserve
        j.set_outcome(seq, K.APPROVED, "", "", "00")
    while _room(j) >= 64:
        j.note_lockout(3)  # 13-byte marks tune the room to [51, 64)
    assert 39 <= _room(j) < 64
    return j


def _scenario_reclaims_a_settled_sector(dev):
    """Every sector in use, the oldest one settled: the refund's pending retires and erases it."""
    j = J.Journal(dev)
    sectors = dev.ioctl(4, 0)
    count = 0
    while _in_use(j) < sectors or _room(j) >= 64 + 13:
        seq = j.append_pending(_sale(stan=3))
        j.set_outcome(seq, K.APPROVED, _rrn(seq), "111111", "00")
        count += 1
        if count % 30 == 0:
            j.mark_settled(j.batch)
    while _room(j) >= 13:
        j.mark_settled(j.batch)  # the sector's end: only marks fit, and everything is settled
    return j


def _scenario_after_a_torn_write(dev):
    """A torn record at the head's end: the next write first pads over it."""
    j = J.Journal(dev)
    seq = j.append_pending(_sale(stan=4))
    j.set_outcome(seq, K.APPROVED, _rrn(seq), "111111", "00")
    buf = bytearray(64)
    J.encode_pending(buf, j.next_seq, _sale(stan=5))
    dev.writeblocks(j._head, memoryview(buf)[:30], j._used)
    return J.Journal(dev)


_SCENARIOS = (_scenario_empty, _scenario_outcome_opens_a_sector, _scenario_reclaims_a_settled_sector,
              _scenario_after_a_torn_write)


def _snapshot(j):
    return [(t.seq, t.type, t.status, t.stan, t.amount, t.rrn) for t in j.history()]


def _refund_with_cut(j, dev, cut, half, acked):
    """Runs pending + outcome of one refund; records in `acked` what the journal acknowledged."""
    dev.cut_after(cut, half)
    try:
        seq = j.append_pending(_refund(stan=9, amount=4321))
        acked.append(("pending", seq))
        j.set_outcome(seq, K.APPROVED, _rrn(seq), "654321", "00")
        acked.append(("outcome", seq))
    except PowerCut:
        return True
    dev.cancel_cut()
    return False


def _check_after_reboot(before, acked, j):
    rows = _snapshot(j)
    seqs = [r[0] for r in rows]
    assert len(seqs) == len(set(seqs)), "duplicated records: {}".format(seqs)
    expected = [r for r in before]
    got_refund = [r for r in rows if r not in before]
    for row in before:  # everything acknowledged earlier is still there, unchanged
        assert row in rows or row[0] not in seqs and row[2] != K.PENDING, "lost {}".format(row)
    if acked:
        seq = acked[0][1]
        status = K.APPROVED if len(acked) == 2 else None
        assert len(got_refund) == 1, "refund missing: {}".format(rows)
        r = got_refund[0]
        assert r[:2] == (seq, K.REFUND) and r[3:5] == (9, 4321), "garbage {}".format(r)
        if status is not None:
            assert r[2] == K.APPROVED and r[5] == _rrn(seq)
        else:
            assert r[2] in (K.PENDING, K.APPROVED)
            if r[2] == K.PENDING:
                assert [t.seq for t in j.pending_without_outcome()] == [seq]
    else:
        assert got_refund == [], "an unacknowledged refund appeared: {}".format(got_refund)
    return expected


def _count_writes(scenario, sectors):
    dev = _fresh(sectors)
    j = scenario(dev)
    start = dev.counts[PROGRAMS] + dev.counts[ERASES]
    acked = []
    _refund_with_cut(j, dev, 1000, False, acked)
    dev.cancel_cut()
    return dev.counts[PROGRAMS] + dev.counts[ERASES] - start


def test_power_cut_sweep_over_every_write_of_a_refund():
    sectors = 3
    tried = 0
    for scenario in _SCENARIOS:
        writes = _count_writes(scenario, sectors)
        assert writes >= 2
        for cut in range(1, writes + 1):
            for half in (False, True):
                dev = _fresh(sectors)
                j = scenario(dev)
                before = _snapshot(j)
                acked = []
                assert _refund_with_cut(j, dev, cut, half, acked), "no cut at write {}".format(cut)
                tried += 1
                dev, j = _reboot(sectors)
                _check_after_reboot(before, acked, j)
                # the rebooted journal works, and survives another reboot
                seq = j.append_pending(_sale(stan=77))
                j.set_outcome(seq, K.DECLINED, _rrn(seq), "", "05")
                after = _snapshot(j)
                _, j = _reboot(sectors)
                assert _snapshot(j) == after
                assert j.find(seq).status == K.DECLINED
    print("power-cut sweep: {} cut points tried, each dropped and half-applied".format(tried))
    assert tried >= 20


def test_second_cut_while_recovering_from_a_torn_write():
    sectors = 3
    tried = 0
    for cut in (1, 2, 3):
        for half in (False, True):
            dev = _fresh(sectors)
            j = _scenario_after_a_torn_write(dev)
            before = _snapshot(j)
            acked = []
            if not _refund_with_cut(j, dev, cut, half, acked):
                continue
            tried += 1
            _, j = _reboot(sectors)
            _check_after_reboot(before, acked, j)
            seq = j.append_pending(_sale(stan=78))
            _, j = _reboot(sectors)
            assert j.find(seq).stan == 78
    assert tried >= 4


# --- recovery cost, capacity, reclaim --------------------------------------------

def test_recovery_reads_do_not_grow_with_the_record_count():
    sectors = 48
    dev = _fresh(sectors)
    j = J.Journal(dev)
    records = 0
    reads_at = []
    checkpoints = (200, 2000, 10000)
    stan = 0
    while records < checkpoints[-1]:
        stan += 1
        seq = j.append_pending(_sale(stan=stan % 1000000))
        j.set_outcome(seq, K.APPROVED, _rrn(seq), "123456", "00")
        records += 2
        if stan % 500 == 0:
            j.mark_settled(j.batch)
            records += 1
        if records >= checkpoints[len(reads_at)]:
            dev.close()
            dev = FileFlash(_PATH, sectors)
            j = J.Journal(dev)
            reads_at.append((records, dev.counts[READS], dev.counts[READ_BYTES]))
    print("recovery reads (records, reads, bytes read):", reads_at)
    bound = sectors + 3 * (_BLOCK // 256) + 2  # every header, the head and the sector before it, the head's tail
    for records, reads, _ in reads_at:
        assert reads <= bound, "{} reads to recover {} records".format(reads, records)
    assert reads_at[-1][1] <= reads_at[0][1] + 2 * (_BLOCK // 256)
    assert j.next_seq == stan + stan // 500 + 1
    newest = next(j.history())
    assert newest.seq == j.next_seq - 1 or newest.seq == j.next_seq - 2


def test_full_journal_refuses_new_work_but_can_reverse_and_settle():
    sectors = 3
    dev = _fresh(sectors)
    j = J.Journal(dev)
    acked = []
    try:
        while True:
            seq = j.append_pending(_sale(stan=len(acked) + 1))
            j.set_outcome(seq, K.APPROVED, _rrn(seq), "222222", "00")
            acked.append(seq)
    except K.JournalFull as full:
        assert "settle" in str(full)
    assert len(acked) > 150
    _, j = _reboot(sectors)
    assert [t.seq for t in j.history()] == list(reversed(acked))  # nothing unsettled was dropped
    try:
        j.append_pending(_sale(stan=9999))
    except K.JournalFull:
        pass
    else:
        assert False, "a full journal took a new sale"
    rev = j.append_pending(K.Txn(type=K.REVERSAL, stan=acked[-1]))
    j.set_outcome(rev, K.APPROVED, "", "", "00")
    j.set_outcome(acked[-1], K.REVERSED)
    settle = j.append_pending(K.Txn(type=K.SETTLEMENT, amount=0))
    j.set_outcome(settle, K.APPROVED, "", "", "00")
    j.mark_settled(j.batch)
    seq = j.append_pending(_sale(stan=10000))
    j.set_outcome(seq, K.APPROVED, _rrn(seq), "333333", "00")
    _, j = _reboot(sectors)
    history = [t.seq for t in j.history()]
    assert history[0] == seq and settle in history and rev in history
    assert j.find(acked[-1]).status == K.REVERSED
    assert j.batch == 2


def test_only_settled_records_are_reclaimed():
    sectors = 4
    dev = _fresh(sectors)
    j = J.Journal(dev)
    open_batch = []
    all_sales = []
    for stan in range(1, 1201):
        seq = j.append_pending(_sale(stan=stan))
        j.set_outcome(seq, K.APPROVED, _rrn(seq), "444444", "00")
        open_batch.append(seq)
        all_sales.append(seq)
        if stan % 150 == 0:
            j.mark_settled(j.batch)
            open_batch = []
    assert dev.counts[ERASES] > sectors  # the ring went round
    _, j = _reboot(sectors)
    history = list(j.history())
    seqs = [t.seq for t in history]
    assert seqs == sorted(seqs, reverse=True)
    for seq in open_batch:
        assert seq in seqs
    # what remains is a contiguous tail: nothing was taken from the middle
    assert seqs == all_sales[len(all_sales) - len(seqs):][::-1]
    assert open_batch == [] and history[0].batch == j.batch - 1  # 1200 sales: the last batch was just settled


def test_unresolved_pending_is_found_sectors_later():
    sectors = 6
    dev = _fresh(sectors)
    j = J.Journal(dev)
    lost = j.append_pending(_refund(stan=1))
    for stan in range(2, 200):
        seq = j.append_pending(_sale(stan=stan))
        j.set_outcome(seq, K.APPROVED, _rrn(seq), "555555", "00")
    assert _in_use(j) >= 3
    _, j = _reboot(sectors)
    assert [t.seq for t in j.pending_without_outcome()] == [lost]


def test_zz_remove_the_flash_file():
    os.remove(_PATH)


def test_a_batch_of_500_approved_is_full_its_totals_fit_de63_and_a_settlement_empties_it():
    import messages

    j = J.Journal(_fresh(12))
    for stan in range(1, 501):
        seq = j.append_pending(_sale(stan=stan, amount=100000))
        j.set_outcome(seq, K.APPROVED, _rrn(seq), "123456", "00")
        if stan == 499:
            assert not j.batch_full(500)
        if stan == 100:
            declined = j.append_pending(_sale(stan=9000))
            j.set_outcome(declined, K.DECLINED, _rrn(declined), "", "05")  # a decline does not count
    assert j.batch_full(500)
    assert not j.batch_full(501)
    field = messages.totals_field(j.totals())
    assert field == "500000050000000" + "000000000000000" * 2, field  # 500 sales of 1,000.00 in three digits
    seq = j.append_pending(K.Txn(type=K.SETTLEMENT, stan=600, time=1762900000))  # always possible
    j.set_outcome(seq, K.APPROVED, _rrn(seq), "", "00")
    j.mark_settled(j.batch)
    assert not j.batch_full(500) and not j.batch_full(1)


def test_an_approved_settlement_whose_mark_the_power_cut_is_closed_at_recovery():
    dev = _fresh(4)
    j = J.Journal(dev)
    seq = j.append_pending(_sale(stan=1))
    j.set_outcome(seq, K.APPROVED, _rrn(seq), "123456", "00")
    batch = j.batch
    seq = j.append_pending(K.Txn(type=K.SETTLEMENT, stan=2, time=1762900000))
    j.set_outcome(seq, K.APPROVED, _rrn(seq), "", "00")  # the power goes before mark_settled
    again = J.Journal(dev)
    assert again.batch == batch + 1, "recovery wrote the mark the cut lost"
    assert J.Journal(dev).batch == batch + 1, "once"
    declined = again.append_pending(K.Txn(type=K.SETTLEMENT, stan=3, time=1762900100))
    again.set_outcome(declined, K.DECLINED, _rrn(declined), "", "95")
    assert J.Journal(dev).batch == batch + 1, "a declined settlement closes nothing"


def test_reserved_seqs_are_never_used_again_even_after_a_reboot():
    dev = _fresh(4)
    j = J.Journal(dev)
    j.append_pending(_sale(stan=1))
    first = j.reserve(10)
    assert first == 2 and j.next_seq == 12
    assert J.Journal(dev).next_seq == 12
