"""The transaction journal: a write-ahead log on a raw flash partition that no power cut can break.

Why a raw partition and not a LittleFS file: appending one small record to a
LittleFS file with a flush per record rewrites the file's last block each time
(kilobytes programmed and about one erase per record); a log on raw NOR flash
programs only the record's own bytes (see docs/journal-format.md for the
measurements and the byte-by-byte format).

Layout: a ring of sectors (the device's erase blocks, 4 KB on the ESP32).
Each live sector starts with a checksummed header; records follow back to back,
each with a tag (kind + length), a sequence number and a CRC-32.  A record is
programmed in one write; a torn one fails its CRC and is never returned.

The device is anything with the block protocol of esp32.Partition:
readblocks(block, buf, offset), writeblocks(block, buf, offset) (program, no
erase), ioctl(4|5|6, arg).
"""
from array import array
import struct
from micropython import const

try:
    from binascii import crc32 as _crc32
except ImportError:  # a port built without binascii.crc32: the same CRC, bit by bit

    def _crc32(data, value=0):
        crc = value ^ 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF


# --- transaction vocabulary (the numbers are what the records store) --------
# JournalFull too: a send that outlives this module's load catches it
from kinds import SALE, REFUND, VOID, REVERSAL, SETTLEMENT, PENDING, APPROVED, REVERSED, Txn, JournalFull


class JournalError(Exception):
    """The journal was used wrongly (an unknown seq, a batch that is not open...)."""

# marks: journal events that are not transactions
_MARK_SETTLED = const(1)  # value = the batch that was closed
_MARK_LOCKOUT = const(2)  # value = wrong password tries that locked refunds
_MARK_RESERVED = const(3)  # seq = the last of value seqs set aside for messages not journalled (a batch upload)

# --- format constants (docs/journal-format.md) -------------------------------
_HEADER_SIZE = const(32)  # records start here
_HEADER_CRC_AT = const(20)  # header bytes [0, 20) are covered by the CRC at [20, 24)
_RETIRED_AT = const(24)  # 0xFF live; programmed to 0x00 before the sector is erased

_KIND_PAD = const(0)  # tag 0x00: one byte of padding over a torn write
_KIND_PENDING = const(1)
_KIND_OUTCOME = const(2)
_KIND_MARK = const(3)
_PENDING_SIZE = const(39)
_OUTCOME_SIZE = const(25)
_MARK_SIZE = const(13)
_MAX_RECORD = const(63)  # the tag holds the length in 6 bits
_ERASED = const(0xFF)

_WINDOW = const(256)  # read buffer for scans: a 4 KB sector is read in about 20 reads
_RESERVE = const(256)  # room an ordinary transaction leaves for outcomes, reversals, a settlement
_BATCH_LIMIT = const(1000000)  # batch numbers are n6: 1..999999, then 1 again

_ZEROS = bytes(_MAX_RECORD)


# --- small codecs, writing into caller's buffers -----------------------------

def _pack_text(buf, pos, text, width, acc, nbits):
    """Appends width 6-bit characters to the bit stream (acc, nbits) and flushes whole bytes into buf.

    ``text`` is read as its bytes: indexing a str would intern each character for good (a qstr).
    """
    text = memoryview(text)
    for i in range(width):
        # the character's 6-bit code: space past the end; anything outside the charset becomes '-'
        c = text[i] if i < len(text) else 32
        if c == 32:
            c = 0
        elif 48 <= c <= 57:
            c -= 47
        elif 65 <= c <= 90:
            c -= 54
        elif 97 <= c <= 122:
            c -= 60
        else:
            c = 63
        acc = (acc << 6) | c
        nbits += 6
        while nbits >= 8:
            nbits -= 8
            buf[pos] = (acc >> nbits) & 0xFF
            pos += 1
        acc &= (1 << nbits) - 1
    return pos, acc, nbits


def _unpack_text(buf, pos, bit, width):
    """Reads width 6-bit characters starting at bit `bit` of buf[pos:]; returns the text without trailing spaces."""
    out = bytearray(width)
    for i in range(width):
        start = bit + 6 * i
        byte = pos + (start >> 3)
        shift = start & 7
        pair = (buf[byte] << 8) | (buf[byte + 1] if shift > 2 else 0)
        charset = b" 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"  # not a module name: a qstr
        out[i] = charset[(pair >> (10 - shift)) & 0x3F]
    return out.decode().rstrip()


def _bcd(buf, pos, digits, start, count):
    """Packs `count` decimal digits of `digits` from `start`, two per byte (read as bytes: see _pack_text)."""
    digits = memoryview(digits)
    for i in range(0, count, 2):
        hi = digits[start + i] - 48
        lo = digits[start + i + 1] - 48
        if not (0 <= hi <= 9 and 0 <= lo <= 9):
            raise ValueError("PAN digits expected")
        buf[pos + i // 2] = (hi << 4) | lo


def _unbcd(buf, pos, count):
    return "".join("{:02x}".format(buf[pos + i]) for i in range(count // 2))


def _u24(buf, pos):
    return buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)


def _put_u24(buf, pos, value):
    buf[pos] = value & 0xFF
    buf[pos + 1] = (value >> 8) & 0xFF
    buf[pos + 2] = (value >> 16) & 0xFF


def _next_batch(batch):
    """Batch numbers are n6 and never 0: 999999 is followed by 1."""
    batch += 1
    return 1 if batch >= _BATCH_LIMIT else batch


def encode_pending(buf, seq, txn):
    """Writes a pending record for txn into buf[0:39] (CRC included)."""
    if not (0 <= txn.amount <= 0xFFFFFFFF):
        raise ValueError("amount out of range")
    if not (0 <= txn.currency < 1024 and 0 < txn.type < 8 and 0 <= txn.entry < 4 and 0 <= txn.reason < 128):
        raise ValueError("currency, type, entry or reason out of range")
    if not (0 <= txn.stan < 0x1000000 and 0 <= txn.orig_date < 2048):
        raise ValueError("stan or orig_date out of range")
    buf[0] = (_KIND_PENDING << 6) | _PENDING_SIZE
    struct.pack_into("<III", buf, 1, seq, txn.time, txn.amount)
    _put_u24(buf, 13, txn.currency | (txn.type << 10) | (txn.entry << 13) | (txn.reason << 15))
    _put_u24(buf, 16, txn.stan)
    pan = txn.pan or ""
    pan_len = len(pan)
    if pan_len:
        if not (12 <= pan_len <= 19):
            raise ValueError("PAN length")
        for i in range(6, pan_len - 4):  # the middle is never stored; it may come masked
            if not ("0" <= pan[i] <= "9" or pan[i] == "*"):
                raise ValueError("PAN digits expected")
        _bcd(buf, 19, pan, 0, 6)
        _bcd(buf, 22, pan, pan_len - 4, 4)
    else:
        for i in range(19, 24):
            buf[i] = 0
    pos, acc, nbits = _pack_text(buf, 24, txn.orig_rrn, 12, 0, 0)
    struct.pack_into("<H", buf, 33, txn.orig_date | (pan_len << 11))
    _seal(buf, _PENDING_SIZE)


def encode_outcome(buf, seq, status, rrn, auth_code, response_code):
    """Writes an outcome record into buf[0:25] (CRC included)."""
    if not (APPROVED <= status <= REVERSED):
        raise ValueError("status")
    buf[0] = (_KIND_OUTCOME << 6) | _OUTCOME_SIZE
    struct.pack_into("<I", buf, 1, seq)
    buf[5] = status
    pos, acc, nbits = _pack_text(buf, 6, rrn, 12, 0, 0)
    pos, acc, nbits = _pack_text(buf, pos, auth_code, 6, acc, nbits)
    _pack_text(buf, pos, response_code, 2, acc, nbits)
    _seal(buf, _OUTCOME_SIZE)


def encode_mark(buf, seq, code, value):
    buf[0] = (_KIND_MARK << 6) | _MARK_SIZE
    struct.pack_into("<I", buf, 1, seq)
    buf[5] = code
    _put_u24(buf, 6, value)
    _seal(buf, _MARK_SIZE)


def _seal(buf, size):
    struct.pack_into("<I", buf, size - 4, _crc32(memoryview(buf)[: size - 4]) & 0xFFFFFFFF)


def decode_pending(buf, at, txn):
    """Fills txn from the pending record at buf[at:]; returns txn."""
    txn.seq, txn.time, txn.amount = struct.unpack_from("<III", buf, at + 1)
    packed = _u24(buf, at + 13)
    txn.currency = packed & 0x3FF
    txn.type = (packed >> 10) & 7
    txn.entry = (packed >> 13) & 3
    txn.reason = (packed >> 15) & 0x7F
    txn.stan = _u24(buf, at + 16)
    date_len = struct.unpack_from("<H", buf, at + 33)[0]
    txn.orig_date = date_len & 0x7FF
    pan_len = date_len >> 11
    if pan_len:
        txn.pan = _unbcd(buf, at + 19, 6) + "*" * (pan_len - 10) + _unbcd(buf, at + 22, 4)
    else:
        txn.pan = ""
    txn.orig_rrn = _unpack_text(buf, at + 24, 0, 12)
    txn.status = PENDING
    txn.rrn = txn.auth_code = txn.response_code = ""
    return txn


def decode_outcome(buf, at, txn):
    """Copies the outcome at buf[at:] onto txn (status, rrn, auth_code, response_code)."""
    txn.status = buf[at + 5]
    txn.rrn = _unpack_text(buf, at + 6, 0, 12)
    txn.auth_code = _unpack_text(buf, at + 6, 72, 6)
    txn.response_code = _unpack_text(buf, at + 6, 108, 2)
    return txn


_TAG_PENDING = const(0x67)  # (_KIND_PENDING << 6) | _PENDING_SIZE
_TAG_OUTCOME = const(0x99)
_TAG_MARK = const(0xCD)


def record_size(tag):
    """Size of a record from its tag, or 0 when the tag is not one of the known ones."""
    if tag == _TAG_PENDING:
        return _PENDING_SIZE
    if tag == _TAG_OUTCOME:
        return _OUTCOME_SIZE
    if tag == _TAG_MARK:
        return _MARK_SIZE
    return 0


def record_ok(buf, at, avail):
    """True when buf[at:] holds a whole record (known tag, within avail bytes) whose CRC matches."""
    size = record_size(buf[at])
    if size == 0 or size > avail:
        return False
    stored = struct.unpack_from("<I", buf, at + size - 4)[0]
    return _crc32(memoryview(buf)[at: at + size - 4]) & 0xFFFFFFFF == stored


class Journal:
    """The journal on one raw partition.  Opening it is the boot-time recovery.

    Recovery reads every sector's header (one small read each) and then only
    the newest two sectors, plus the sectors back to the oldest unresolved
    pending (none, in normal operation): its cost does not grow with the
    record count.
    """

    def __init__(self, device, first_batch=1):
        self._dev = device
        self._block = device.ioctl(5, 0) or 4096
        self._count = device.ioctl(4, 0)
        if self._count < 2:
            raise JournalError("a journal needs at least 2 sectors")
        self._win = bytearray(_WINDOW)
        self._rec = bytearray(_MAX_RECORD + 1)
        self.first_batch = first_batch  # (named as its argument: one qstr, not two)
        # per sector: generation (0 = free), seq and batch at opening; 32-bit arrays, not lists of ints
        self._gen = array("I", bytes(4 * self._count))
        self._first_seq = array("I", bytes(4 * self._count))
        self._open_batch = array("I", bytes(4 * self._count))
        self._recover()

    # --- public API ----------------------------------------------------------

    @property
    def batch(self):
        """The open (unsettled) batch number."""
        return self._batch

    @property
    def next_seq(self):
        return self._next_seq

    def append_pending(self, txn):
        """Journals txn before it is sent; returns its seq.  Raises JournalFull when only unsettled records remain.

        Reversals and settlements may use the room kept back from ordinary
        transactions, so a full journal can still reverse and settle.
        """
        self._check_state()
        seq = self._next_seq
        encode_pending(self._rec, seq, txn)
        reserve = 0 if txn.type in (REVERSAL, SETTLEMENT) else _RESERVE
        self._write(_PENDING_SIZE, reserve)
        self._next_seq = seq + 1
        self._unresolved.append(seq)
        txn.seq = seq
        txn.batch = self._batch
        txn.status = PENDING
        return seq

    def set_outcome(self, seq, status, rrn="", auth_code="", response_code=""):
        """Journals the outcome of transaction seq (APPROVED, DECLINED, FAILED or REVERSED)."""
        self._check_state()
        if not (0 < seq < self._next_seq):
            raise JournalError("unknown seq {}".format(seq))
        encode_outcome(self._rec, seq, status, rrn, auth_code, response_code)
        self._write(_OUTCOME_SIZE, 0)
        if seq in self._unresolved:
            self._unresolved.remove(seq)
            self._victim = -1

    def mark_settled(self, batch):
        """Closes batch (the open one): its records become reclaimable and batch + 1 opens."""
        self._check_state()
        if batch != self._batch:
            raise JournalError("batch {} is not the open batch {}".format(batch, self._batch))
        self._append_mark(_MARK_SETTLED, batch)
        self._batch = _next_batch(batch)
        self._victim = -1

    def reserve(self, count):
        """Sets ``count`` seqs aside and returns the first: the KSN counters and STANs of a batch upload.

        The upload's messages are not journalled one by one (a batch of 500
        would fill sectors), but no KSN may serve two messages, even across
        a power cut: one mark moves the sequence past them all.
        """
        self._check_state()
        first = self._next_seq
        encode_mark(self._rec, first + count - 1, _MARK_RESERVED, count)
        self._write(_MARK_SIZE, 0)
        self._next_seq = first + count
        return first

    def batch_full(self, size):
        """Whether the open batch holds ``size`` approved sales, refunds and voids (DE 63 counts them in 3 digits).

        Counting reads the batch back, so it is done only when the batch
        could be that full: the batch began in the sector before the oldest
        one opened in it (where its "settled" mark may be), or in the head,
        and the seqs since that sector opened bound its size.
        """
        start = self._first_seq[self._head] if self._head >= 0 else self._next_seq
        before = -1
        for sector in self._live_sectors():
            if self._open_batch[sector] == self._batch:
                start = self._first_seq[before if before >= 0 else sector]
                break
            before = sector
        if self._next_seq - start < size:
            return False
        count = 0
        for txn in self.history():
            if txn.batch != self._batch:
                break
            if txn.status == APPROVED and txn.type in (SALE, REFUND, VOID):
                count += 1
                if count >= size:
                    return True
        return False

    def note_lockout(self, tries):
        """Journals that refunds were locked after `tries` wrong supervisor passwords."""
        self._check_state()
        self._append_mark(_MARK_LOCKOUT, tries)

    def pending_without_outcome(self):
        """Transactions journalled as pending that never got an outcome, oldest first (for reversal at boot).

        A REVERSAL in the list is one still to be sent; a reversed transaction
        stays in the list until set_outcome(seq, REVERSED) is written for it.
        """
        if not self._unresolved:
            return []
        wanted = len(self._unresolved)
        found = []
        for txn in self.history():
            if txn.seq in self._unresolved and txn.status == PENDING:
                found.append(txn)
                if len(found) == wanted:
                    break
        found.reverse()
        return found

    def status(self, seq):
        """Latest status of transaction seq, or None when it is not (or no longer) in the journal."""
        txn = self.find(seq)
        return None if txn is None else txn.status

    def find(self, seq):
        """The transaction seq with its latest outcome (for reprint), or None."""
        for txn in self.history():
            if txn.seq == seq:
                return txn
            if txn.seq < seq:
                return None
        return None

    def history(self):
        """Transactions newest first, each with its latest outcome (for the history screen and export).

        Reads one sector at a time, newest sector first; keeps only the
        outcomes whose pending record is still ahead.
        """
        outcomes = {}
        offsets = batches = None
        order = self._live_sectors()
        for index in range(len(order) - 1, -1, -1):
            sector = order[index]
            if offsets is None or batches is None:
                offsets = [0] * ((self._block - _HEADER_SIZE) // _OUTCOME_SIZE + 1)
                batches = [0] * len(offsets)
            count = 0
            for kind, _at, batch in self._walk(sector):
                if kind == _KIND_PENDING or kind == _KIND_OUTCOME:
                    offsets[count] = self._walk_offset
                    batches[count] = batch
                    count += 1
            gen = self._gen[sector]
            rec = self._rec
            for i in range(count - 1, -1, -1):
                self._dev.readblocks(sector, memoryview(rec)[:min(_MAX_RECORD, self._block - offsets[i])], offsets[i])
                seq = struct.unpack_from("<I", rec, 1)[0]
                if rec[0] >> 6 == _KIND_OUTCOME:
                    if seq not in outcomes:
                        outcomes[seq] = bytes(rec[:_OUTCOME_SIZE])
                    continue
                txn = decode_pending(rec, 0, Txn())
                txn.batch = batches[i]
                outcome = outcomes.pop(seq, None)
                if outcome is not None:
                    decode_outcome(outcome, 0, txn)
                yield txn
            if self._gen[sector] != gen:
                return  # the journal moved on under us (a sector was reclaimed)

    def totals(self):
        """Approved transactions of the open batch: {type: (count, amount)} (for the totals screen and DE 63)."""
        sums = {}
        for txn in self.history():
            if txn.batch != self._batch:
                break
            if txn.status == APPROVED and txn.type in (SALE, REFUND, VOID):
                count, amount = sums.get(txn.type, (0, 0))
                sums[txn.type] = (count + 1, amount + txn.amount)
        return sums

    def nth(self, index):
        """The index-th transaction, newest first (reversals included), or None."""
        i = 0
        for txn in self.history():
            if i == index:
                return txn
            i += 1
        return None

    def find_sale(self, rrn):
        """The approved sale of the open batch (what a void may cancel) with this RRN, or this voucher
        number (its STAN) when ``rrn`` is an int; None when there is none."""
        for txn in self.history():
            if txn.batch != self._batch:
                return None
            if txn.type == SALE and txn.status == APPROVED and (txn.rrn == rrn or txn.stan == rrn):
                return txn
        return None

    def refundable(self, sale):
        """What is left to refund of ``sale``: its amount less the approved refunds of it; -1 once it is voided."""
        left = sale.amount
        for txn in self.history():
            if txn.seq <= sale.seq:
                break
            if txn.status == APPROVED and txn.orig_rrn == sale.rrn:
                if txn.type == VOID:
                    return -1
                if txn.type == REFUND:
                    left -= txn.amount
        return left if left > 0 else 0

    # --- recovery --------------------------------------------------------------

    def _recover(self):
        self._needs_recovery = False
        self._head = -1
        self._head_gen = 0
        self._used = self._block  # nothing to append to until a sector is opened
        self._dirty_end = 0
        self._next_seq = 1
        self._batch = self.first_batch
        self._unresolved = []
        self._victim = -1
        hdr = memoryview(self._win)[:_HEADER_SIZE]  # reads up to the retired byte
        oldest_open = [0] * self._count
        for s in range(self._count):
            self._dev.readblocks(s, hdr, 0)
            self._gen[s] = 0
            if bytes(hdr[0:4]) != b"MPJ\x01" or hdr[_RETIRED_AT] != _ERASED:
                continue
            if _crc32(hdr[:_HEADER_CRC_AT]) & 0xFFFFFFFF != struct.unpack_from("<I", hdr, _HEADER_CRC_AT)[0]:
                continue
            gen, first_seq, open_seq = struct.unpack_from("<III", hdr, 4)
            if gen == 0:
                continue
            self._gen[s] = gen
            self._first_seq[s] = first_seq
            oldest_open[s] = open_seq
            self._open_batch[s] = _u24(hdr, 16)
            if gen > self._head_gen:
                self._head_gen = gen
                self._head = s
        if self._head < 0:
            return
        head = self._head
        self._next_seq = self._first_seq[head]
        self._batch = self._open_batch[head]
        start = oldest_open[head]
        order = self._live_sectors()
        first = len(order) - 2 if len(order) > 1 else 0  # the sector before the head too: see below
        if start:
            while first > 0 and self._first_seq[order[first]] > start:
                first -= 1
        settling = closed = 0  # the last settlement's seq; the batch its approval closed
        for i in range(first, len(order)):
            sector = order[i]
            for kind, at, _batch in self._walk(sector):
                seq = struct.unpack_from("<I", self._win, at + 1)[0]
                if kind == _KIND_PENDING:
                    if start and seq >= start or sector == head:
                        self._unresolved.append(seq)
                    if (_u24(self._win, at + 13) >> 10) & 7 == SETTLEMENT:
                        settling = seq
                elif kind == _KIND_OUTCOME:
                    if seq in self._unresolved:
                        self._unresolved.remove(seq)
                    if seq == settling:
                        closed = self._walk_batch if self._win[at + 5] == APPROVED else 0
                if sector == head:
                    if kind != _KIND_OUTCOME:
                        self._next_seq = seq + 1
                    self._batch = self._walk_batch
        self._settle_head_tail()  # the head is the last sector walked
        if closed == self._batch:
            # A settlement approved, and the power went before its "batch settled" mark (or while the
            # mark opened the next sector, hence the sector before the head): the acquirer has closed
            # the batch, so the journal closes it too, before anything joins it.
            self.mark_settled(closed)

    def _settle_head_tail(self):
        """Decides where the next record goes in the head sector after its walk.

        After the last valid record the sector must be erased.  If it is not,
        a write was torn there: one program touches at most one record's
        bytes, so those 63 bytes get zero-filled (padding), lazily, before the
        next write; should anything beyond them be programmed, the sector is
        sealed and the next record opens a new one.
        """
        end = self._walk_end
        if self._erased_from(self._head, end):
            self._used = end
            return
        dirty_end = min(end + _MAX_RECORD, self._block)
        if self._erased_from(self._head, dirty_end):
            self._used = end
            self._dirty_end = dirty_end
        else:
            self._used = self._block

    def _erased_from(self, sector, offset):
        win = self._win
        while offset < self._block:
            n = min(_WINDOW, self._block - offset)
            view = memoryview(win)[:n]
            self._dev.readblocks(sector, view, offset)
            for i in range(n):
                if win[i] != _ERASED:
                    return False
            offset += n
        return True

    def _live_sectors(self):
        """Live sectors oldest first: the ring after the head, skipping free ones."""
        order = []
        if self._head < 0:
            return order
        s = self._head
        for _ in range(self._count):
            s = (s + 1) % self._count
            if self._gen[s]:
                order.append(s)
        return order

    def _walk(self, sector):
        """Yields (kind, at, batch) for each valid record of sector, in order; its bytes are at self._win[at:].

        The record's offset in the sector is self._walk_offset.  A record with
        a known tag and a bad CRC is skipped;
        unknown bytes end the walk.  When the walk ends, self._walk_end is
        where the last valid record (or padding) ends.
        """
        win = self._win
        block = self._block
        base = 0
        filled = 0
        off = _HEADER_SIZE
        end = off
        batch = self._open_batch[sector]
        while off < block:
            if off + _MAX_RECORD > base + filled and base + filled < block:
                base = off
                filled = min(_WINDOW, block - off)
                self._dev.readblocks(sector, memoryview(win)[:filled], off)
            at = off - base
            tag = win[at]
            if tag == _ERASED:
                break
            if tag == 0:  # padding over an earlier torn write
                off += 1
                end = off
                continue
            size = record_size(tag)
            if size == 0 or size > filled - at:
                break
            if not record_ok(win, at, filled - at):
                off += size
                continue
            kind = tag >> 6
            if kind == _KIND_MARK and win[at + 5] == _MARK_SETTLED:
                batch = _next_batch(_u24(win, at + 6))
            self._walk_offset = off
            self._walk_batch = batch
            yield kind, at, batch
            off += size
            end = off
        self._walk_end = end

    # --- writing ---------------------------------------------------------------

    def _check_state(self):
        if self._needs_recovery:
            self._recover()

    def _append_mark(self, code, value):
        encode_mark(self._rec, self._next_seq, code, value)
        self._write(_MARK_SIZE, 0)
        self._next_seq += 1

    def _write(self, size, reserve):
        """Programs self._rec[:size] at the end of the log, opening a sector when needed."""
        try:
            self._make_room(size, reserve)
            if self._dirty_end:
                self._dev.writeblocks(self._head, memoryview(_ZEROS)[: self._dirty_end - self._used], self._used)
                self._used = self._dirty_end
                self._dirty_end = 0
            self._dev.writeblocks(self._head, memoryview(self._rec)[:size], self._used)
            self._used += size
        except JournalFull:
            raise
        except BaseException:
            # power cut or flash error: RAM state is no longer trusted; re-read the flash next time
            self._needs_recovery = True
            raise

    def _make_room(self, size, reserve):
        room = self._block - (self._dirty_end or self._used)
        if self._head >= 0 and size <= room:
            if reserve == 0 or size + reserve <= room or self._reclaimable(self._next_sector()):
                return
        if not self._reclaimable(self._next_sector()):
            raise JournalFull("journal full - settle first")
        self._open_sector(self._next_sector())

    def _next_sector(self):
        return 0 if self._head < 0 else (self._head + 1) % self._count

    def _reclaimable(self, sector):
        """A free sector, or one whose records all belong to closed batches and none is unresolved."""
        if self._gen[sector] == 0:
            return True
        if sector == self._head:
            return False
        if self._victim >= 0 and self._victim >> 1 == sector:  # asked already: sector * 2 + the answer
            return self._victim & 1 == 1
        ok = True
        for kind, at, batch in self._walk(sector):
            if kind == _KIND_PENDING:
                seq = struct.unpack_from("<I", self._win, at + 1)[0]
                if batch == self._batch or seq in self._unresolved:
                    ok = False
                    break
        self._victim = sector * 2 + (1 if ok else 0)
        return ok

    def _open_sector(self, sector):
        """Retire (if live), erase, then write a header: a cut at any step leaves the sector free or new."""
        dev = self._dev
        if self._gen[sector]:
            self._gen[sector] = 0
            dev.writeblocks(sector, memoryview(_ZEROS)[:1], _RETIRED_AT)
        self._victim = -1
        dev.ioctl(6, sector)
        hdr = self._win
        for i in range(_HEADER_SIZE):
            hdr[i] = _ERASED
        hdr[0:4] = b"MPJ\x01"  # the magic
        gen = self._head_gen + 1
        oldest_open = min(self._unresolved) if self._unresolved else 0
        struct.pack_into("<III", hdr, 4, gen, self._next_seq, oldest_open)
        _put_u24(hdr, 16, self._batch)
        hdr[19] = 0
        struct.pack_into("<I", hdr, _HEADER_CRC_AT, _crc32(memoryview(hdr)[:_HEADER_CRC_AT]) & 0xFFFFFFFF)
        dev.writeblocks(sector, memoryview(hdr)[:_RETIRED_AT], 0)
        self._gen[sector] = gen
        self._first_seq[sector] = self._next_seq
        self._open_batch[sector] = self._batch
        self._head = sector
        self._head_gen = gen
        self._used = _HEADER_SIZE
        self._dirty_end = 0
