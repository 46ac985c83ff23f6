"""AES DUKPT (ANSI X9.24-3-2017), terminal side, AES-128 keys only.

The terminal keeps just its initial key and initial key ID.  For each transaction it
walks the counter's one-bits from the most significant down, deriving one
intermediate key per bit (at most 16, the standard's limit), and then derives the
working key for the wanted usage.  Derivation data lives in one preallocated 16-byte
buffer and every derived key is written into a caller's (or this object's) buffer;
the only allocation per derivation step is the AES key schedule cryptolib builds.

KSN = initial key ID (8 bytes) + 32-bit transaction counter, 12 bytes; the protocol's
DE 53 carries it as 24 hex characters (see ``ksn_hex``).
"""
import cryptolib
from micropython import const

_KEY_LEN = const(16)
_KEY_ID_LEN = const(8)
_KSN_LEN = const(12)
_MODE_ECB = const(1)
_COUNTER_BYTES = const(4)
# A counter with more one-bits than this would need more derivation steps than the
# standard allows; such counters are never used.
_MAX_ONE_BITS = const(16)

# Key usage indicators (derivation data bytes 2-3), X9.24-3-2017 section 6.3.2:
# the two this terminal derives.  The others (0x0002 key encryption, 0x1000 PIN,
# 0x2000/0x2001 MAC one way, 0x300x data, 0x8001 initial key) are for other
# devices; the tests check them against the published vectors through
# ``working_key``.
_KEY_USAGE_MAC_BOTH_WAYS = const(0x2002)
_KEY_USAGE_KEY_DERIVATION = const(0x8000)

# Derivation data layout: version, key block counter, usage (2), algorithm (2),
# key length in bits (2), then 8 bytes that identify the key being derived.
_DD_VERSION = const(0x01)
_DD_BLOCK_COUNTER = const(0x01)  # AES-128 output is one block, so always the first
_DD_ALGORITHM_AES128 = const(0x0002)
_DD_LENGTH_AES128 = const(128)
_DD_USAGE = const(2)
_DD_ID = const(8)
_DD_COUNTER = const(12)



class CounterExhaustedError(Exception):
    """No valid transaction counter is left: the terminal needs a new initial key."""


def one_bits(counter):
    """Number of one-bits in ``counter`` (MicroPython ints have no bit_count)."""
    n = 0
    while counter:
        counter &= counter - 1
        n += 1
    return n


def is_valid_counter(counter):
    """True for counters the standard allows: 1..2^32-1 with at most 16 one-bits."""
    return 0 < counter and (counter >> 32) == 0 and one_bits(counter) <= _MAX_ONE_BITS


def counter_at(index):
    """The ``index``-th valid counter (1 for index 1, 2 for 2, ...), skipping those with 17+ one-bits.

    The terminal numbers every message it journals and takes its KSN counter
    from that number, so the counter is persisted with the journal and never
    reused.  Counting, bit by bit from the top, how many valid counters lie
    below each choice finds the answer in 32 steps, whatever ``index`` is.
    """
    if index < 1:
        raise ValueError("counter index starts at 1")
    counter = 0
    ones = 0
    for bit in range(31, -1, -1):
        # valid values that keep the bits chosen so far and leave this one 0
        below = 0
        ways = 1  # C(bit, k), for k = 0, 1, ...
        for k in range(_MAX_ONE_BITS - ones + 1):
            if k > bit:
                break
            below += ways
            ways = ways * (bit - k) // (k + 1)
        if index >= below:
            index -= below
            counter |= 1 << bit
            ones += 1
    if ones > _MAX_ONE_BITS or index:
        raise CounterExhaustedError("DUKPT transaction counter exhausted; load a new initial key")
    return counter


def _check_counter(counter):
    if not is_valid_counter(counter):
        raise ValueError("invalid DUKPT transaction counter")


def _set_header(data, usage):
    """Fills derivation data bytes 0-7 for an AES-128 key of the given usage."""
    data[0] = _DD_VERSION
    data[1] = _DD_BLOCK_COUNTER
    data[_DD_USAGE] = usage >> 8
    data[_DD_USAGE + 1] = usage & 0xFF
    data[4] = _DD_ALGORITHM_AES128 >> 8
    data[5] = _DD_ALGORITHM_AES128 & 0xFF
    data[6] = _DD_LENGTH_AES128 >> 8
    data[7] = _DD_LENGTH_AES128 & 0xFF


class Dukpt:
    """One terminal's DUKPT state: initial key, initial key ID and scratch buffers."""

    def __init__(self, initial_key, initial_key_id):
        if len(initial_key) != _KEY_LEN or len(initial_key_id) != _KEY_ID_LEN:
            raise ValueError("initial key must be 16 bytes and initial key ID 8 bytes")
        self._initial_key = bytes(initial_key)
        self.initial_key_id = bytes(initial_key_id)
        self._key = bytearray(_KEY_LEN)  # the intermediate key being walked down
        self._data = bytearray(_KEY_LEN)  # derivation data, rewritten in place
        self._counter = bytearray(_COUNTER_BYTES)  # counter, big-endian, to walk bytewise

    def transaction_key(self, counter, out=None):
        """Intermediate derivation key for ``counter`` (16 bytes) into ``out`` or a new bytearray."""
        if out is None:
            out = bytearray(_KEY_LEN)
        self._derive_transaction_key(counter)
        out[:_KEY_LEN] = self._key
        self._wipe_key()
        return out

    def working_key(self, counter, key_usage, out=None):
        """AES-128 working key of ``key_usage`` (an X9.24-3 key usage indicator, e.g. 0x2002) for ``counter``."""
        if out is None:
            out = bytearray(_KEY_LEN)
        self._derive_transaction_key(counter)
        data = self._data
        _set_header(data, key_usage)
        # Bytes 12-15 already hold the whole counter: the walk ended on it.
        cryptolib.aes(self._key, _MODE_ECB).encrypt(data, out)
        self._wipe_key()
        return out

    def mac_key(self, counter, out=None):
        """The "message authentication, both ways" key for ``counter``, used with cmac.Cmac."""
        return self.working_key(counter, _KEY_USAGE_MAC_BOTH_WAYS, out)

    def ksn(self, counter, out=None):
        """The 12-byte KSN: initial key ID followed by the counter, big-endian."""
        if out is None:
            out = bytearray(_KSN_LEN)
        out[:_KEY_ID_LEN] = self.initial_key_id
        for i in range(_COUNTER_BYTES):
            out[_KEY_ID_LEN + i] = (counter >> (8 * (_COUNTER_BYTES - 1 - i))) & 0xFF
        return out

    def ksn_hex(self, counter, out=None):
        """The KSN as 24 upper-case ASCII hex characters, as DE 53 carries it."""
        if out is None:
            out = bytearray(2 * _KSN_LEN)
        key_id = self.initial_key_id
        digits = b"0123456789ABCDEF"  # a constant of the code, not a module name: each name costs a qstr
        for i in range(_KEY_ID_LEN):
            out[2 * i] = digits[key_id[i] >> 4]
            out[2 * i + 1] = digits[key_id[i] & 0x0F]
        # The counter's 8 hex digits, most significant nibble first.
        for i in range(2 * _COUNTER_BYTES):
            out[2 * _KEY_ID_LEN + i] = digits[(counter >> (4 * (2 * _COUNTER_BYTES - 1 - i))) & 0x0F]
        return out

    def _derive_transaction_key(self, counter):
        """Leaves the transaction key for ``counter`` in self._key (X9.24-3 terminal walk).

        Starting from the initial key, each one-bit of the counter, most significant
        first, is added to a working counter and the next key is AES(previous key,
        derivation data naming that working counter).  The working counter is built in
        the derivation data bytes directly, so the walk does no arithmetic on large
        integers (from 2**30 up they are heap objects on the ESP32's 32-bit port).
        """
        _check_counter(counter)
        walk = self._counter
        for i in range(_COUNTER_BYTES):
            walk[i] = (counter >> (8 * (_COUNTER_BYTES - 1 - i))) & 0xFF
        data = self._data
        _set_header(data, _KEY_USAGE_KEY_DERIVATION)
        # Bytes 8-11: the key ID's rightmost 4 bytes; 12-15: the working counter, from 0.
        key_id = self.initial_key_id
        for i in range(4):
            data[_DD_ID + i] = key_id[_KEY_ID_LEN - 4 + i]
            data[_DD_COUNTER + i] = 0
        key = self._key
        key[:] = self._initial_key
        for i in range(_COUNTER_BYTES):
            byte = walk[i]
            mask = 0x80
            while mask:
                if byte & mask:
                    data[_DD_COUNTER + i] |= mask
                    # The schedule is built from key before encrypt overwrites it.
                    cryptolib.aes(key, _MODE_ECB).encrypt(data, key)
                mask >>= 1

    def _wipe_key(self):
        """Clears the intermediate key register so it does not linger in RAM."""
        key = self._key
        for i in range(_KEY_LEN):
            key[i] = 0


def message_keys(initial_key, initial_key_id, index):
    """(DE 53's KSN as 24 hex digits, the MAC key) of the terminal's ``index``-th message.

    A send calls this before it loads the codec and the connection, and
    drops this module after: DUKPT and the link never share the heap.
    """
    terminal = Dukpt(initial_key, initial_key_id)
    counter = counter_at(index)
    return terminal.ksn_hex(counter), terminal.mac_key(counter)
