"""The acquirer's and the standard's side of DUKPT, for the firmware tests on the unix port.

The terminal never holds the BDK and numbers its counters with
``dukpt.counter_at``; these two are the definitions that numbering and its
initial key are checked against.
"""
import cryptolib

import dukpt

_INITIAL_KEY_USAGE = 0x8001  # X9.24-3-2017 key usage indicator "initial key"


def initial_key(bdk, initial_key_id):
    """The initial key the acquirer derives from an AES-128 BDK for one terminal."""
    if len(bdk) != 16 or len(initial_key_id) != 8:
        raise ValueError("BDK must be 16 bytes and initial key ID 8 bytes")
    # version 1, block 1, usage, algorithm AES-128 (0x0002), length 128 bits, then the key ID
    data = bytearray(b"\x01\x01") + bytes((_INITIAL_KEY_USAGE >> 8, _INITIAL_KEY_USAGE & 0xFF))
    data += b"\x00\x02\x00\x80" + initial_key_id
    return cryptolib.aes(bdk, 1).encrypt(data)


def next_counter(counter):
    """The next counter the standard allows after ``counter``: at most 16 one-bits, below 2**32."""
    counter += 1
    while dukpt.one_bits(counter) > 16:
        counter += counter & -counter  # skips every value that keeps these high bits and adds more
    if counter >> 32:
        raise dukpt.CounterExhaustedError("DUKPT transaction counter exhausted")
    return counter
