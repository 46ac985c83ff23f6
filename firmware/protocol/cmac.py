"""AES-128-CMAC (NIST SP 800-38B, RFC 4493), truncated to 8 bytes for the protocol's MAC field.

The block cipher is ``cryptolib.aes`` in ECB mode; CMAC's chaining is done here so
that every block goes through one preallocated state buffer.  A MAC over a message
of any length allocates nothing once the object exists (cryptolib writes into the
``out`` buffers we hand it); only building the AES key schedule allocates, once per
key.
"""
import cryptolib
from micropython import const

_BLOCK = const(16)
_MAC_LEN = const(8)
_MODE_ECB = const(1)
# Reduction constant for doubling in GF(2^128): x^128 = x^7 + x^2 + x + 1.
_RB = const(0x87)


def _double(src, dst):
    """dst = src * x in GF(2^128) (shift left one bit, reduce on carry): SP 800-38B subkey step."""
    carry = 0
    for i in range(_BLOCK - 1, -1, -1):
        b = src[i]
        dst[i] = ((b << 1) & 0xFF) | carry
        carry = b >> 7
    if carry:
        dst[_BLOCK - 1] ^= _RB


class Cmac:
    """CMAC under one AES-128 key; subkeys K1 and K2 are computed once, here."""

    def __init__(self, key16):
        self._k1 = bytearray(_BLOCK)
        self._k2 = bytearray(_BLOCK)
        self._state = bytearray(_BLOCK)
        self._aes = None
        self.rekey(key16)

    def rekey(self, key16):
        """Switches to a new key, reusing this object's buffers.

        DUKPT gives every transaction its own MAC key: keeping one Cmac and rekeying it
        costs one AES key schedule instead of a fresh object with four buffers.
        """
        if len(key16) != _BLOCK:
            raise ValueError("CMAC key must be 16 bytes (AES-128)")
        self._aes = cryptolib.aes(key16, _MODE_ECB)
        state = self._state
        for i in range(_BLOCK):
            state[i] = 0
        # L = AES(K, 0^128); K1 = dbl(L); K2 = dbl(K1).  L is briefly held in K2's buffer.
        self._aes.encrypt(state, self._k2)
        _double(self._k2, self._k1)
        _double(self._k1, self._k2)

    def mac8(self, data, out=None):
        """First 8 bytes of CMAC(data); written into ``out`` (len >= 8) if given, else a new bytearray."""
        if out is None:
            out = bytearray(_MAC_LEN)
        state = self._tag(data)
        for i in range(_MAC_LEN):
            out[i] = state[i]
        return out

    def verify8(self, data, mac):
        """True if ``mac`` (8 bytes) is the truncated CMAC of ``data``.

        Compares every byte whatever the result, so the time taken does not tell an
        attacker how many leading bytes of a forged MAC were right.
        """
        if len(mac) != _MAC_LEN:
            return False
        state = self._tag(data)
        diff = 0
        for i in range(_MAC_LEN):
            diff |= state[i] ^ mac[i]
        return diff == 0

    def _tag(self, data):
        """Full 16-byte CMAC of ``data``, left in (and returned as) the state buffer."""
        state = self._state
        aes = self._aes
        for i in range(_BLOCK):
            state[i] = 0
        length = len(data)
        # Every block but the last is plain CBC; the last is special (subkey, padding),
        # and the empty message counts as one incomplete last block.
        offset = 0
        while length - offset > _BLOCK:
            for i in range(_BLOCK):
                state[i] ^= data[offset + i]
            aes.encrypt(state, state)
            offset += _BLOCK
        tail = length - offset
        if tail == _BLOCK:
            subkey = self._k1
            for i in range(_BLOCK):
                state[i] ^= data[offset + i] ^ subkey[i]
        else:
            subkey = self._k2
            for i in range(tail):
                state[i] ^= data[offset + i] ^ subkey[i]
            # Padding 10*: one 0x80 byte then zeros, each XORed with K2 as well.
            state[tail] ^= 0x80 ^ subkey[tail]
            for i in range(tail + 1, _BLOCK):
                state[i] ^= subkey[i]
        aes.encrypt(state, state)
        return state
