"""AES DUKPT terminal side (firmware/dukpt.py) on the unix port.

Vectors: ANSI X9.24-3-2017 supplement test vectors for the AES-128 BDK
FEDCBA9876543210F1F1F1F1F1F1F1F1 and initial key ID 1234567890123456.
"""
import gc
from binascii import hexlify, unhexlify

import cryptolib
import dukpt
from cmac import Cmac
from dukpt_reference import initial_key, next_counter

BDK = unhexlify("FEDCBA9876543210F1F1F1F1F1F1F1F1")
KEY_ID = unhexlify("1234567890123456")
INITIAL_KEY = unhexlify("1273671EA26AC29AFA4D1084127652A1")

# Published transaction (intermediate derivation) keys, by counter.
TRANSACTION_KEYS = (
    (0x00000001, "4F21B565BAD9835E112B6465635EAE44"),
    (0x00000002, "2F34D68DE10F68D38091A73B9E7C437C"),
    (0x00000003, "031504E530365CF81264238540518318"),
    (0x00000004, "0EEFC7ADA628BA68878DA9165A8A1887"),
    (0x00000005, "C2A7AC328A5DA2D6002D62465BFC028B"),
    (0x00000006, "D30F7D9351DA58448A2F5E92B4EE3B7D"),
    (0x00000007, "A8253CEED9AC042C54F75D35C8352278"),
    (0x00000008, "718EE6CF0B27E53D5F7AF99C4D8146A2"),
    (0x0001FFFE, "E21E8C8D347F8561A2BE752DAA85A111"),
    (0x00020000, "F7AE9025468A25D37B7249CFFED224C8"),
    (0x00020001, "692C8EA4013645135B36497131DF9D2C"),
    (0xFFFE2000, "48E585B694EB0B18D5C35443E163C0BA"),
    (0xFFFE4000, "396C2C7CA1EA701C03B86B7D41F0C562"),
    (0xFFFE8000, "0387625F189B58AE03EF0E8CCA41105E"),
    (0xFFFF0000, "F6BA59389BD14A9855BE9727E7C52E3C"),
)

# Key usage indicators, X9.24-3-2017 section 6.3.2.
KEY_USAGE_KEY_ENCRYPTION = 0x0002
KEY_USAGE_PIN_ENCRYPTION = 0x1000
KEY_USAGE_MAC_GENERATION = 0x2000
KEY_USAGE_MAC_VERIFICATION = 0x2001
KEY_USAGE_MAC_BOTH_WAYS = 0x2002
KEY_USAGE_DATA_ENCRYPT = 0x3000
KEY_USAGE_DATA_DECRYPT = 0x3001
KEY_USAGE_DATA_BOTH_WAYS = 0x3002
KEY_USAGE_KEY_DERIVATION = 0x8000

# Published working keys for counter 1, every usage (X9.24-3-2017 Annex B / supplement).
COUNTER_1_WORKING_KEYS = (
    (KEY_USAGE_KEY_ENCRYPTION, "36A724B7BEFA5A25F5E7B5782A4554A2"),
    (KEY_USAGE_PIN_ENCRYPTION, "AF8CB133A78F8DC2D1359F18527593FB"),
    (KEY_USAGE_MAC_GENERATION, "A2DC23DE6FDE0824A2BC321E08E4B8B7"),
    (KEY_USAGE_MAC_VERIFICATION, "DBB463945B286C07CD3AD82EE96FD9C9"),
    (KEY_USAGE_MAC_BOTH_WAYS, "85675439D18D7F1158BD8E3EAA3D502B"),
    (KEY_USAGE_DATA_ENCRYPT, "A35C412EFD41FDB98B69797C02DCD08F"),
    (KEY_USAGE_DATA_DECRYPT, "16292C6EA8F64C5420A0584BFBC577BE"),
    (KEY_USAGE_DATA_BOTH_WAYS, "A308E080DD15A1B741F1721BF67DE11C"),
    (KEY_USAGE_KEY_DERIVATION, "30E54D3C69B22501A7FC43969D81D5C0"),
)

# Published MAC-generation (0x2000) keys past counter 1: same walk, other usage code.
MAC_GENERATION_KEYS = (
    (0x00000002, "484C3B06E8562704528CD5B46FB12FB6"),
    (0x00000003, "A5DF7D9D800CA769766F0C77CA4E6E6C"),
    (0x00000005, "0588185FE1FF8C7E22FAD78C1C61F065"),
    (0x0001FFFE, "6D7623AD652734B8FAE1B6E093EACE3D"),
    (0x00020000, "0B59D3D7D93028D97135FB895CACE24E"),
)


def _hex(b):
    return hexlify(b).decode().upper()


def _terminal():
    return dukpt.Dukpt(INITIAL_KEY, KEY_ID)


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return
    raise AssertionError("%s not raised for %r" % (exc_type.__name__, args))


def test_initial_key_from_bdk():
    assert _hex(initial_key(BDK, KEY_ID)) == _hex(INITIAL_KEY)


def test_transaction_keys_match_published_vectors():
    terminal = _terminal()
    for counter, expected in TRANSACTION_KEYS:
        assert _hex(terminal.transaction_key(counter)) == expected, hex(counter)


def test_whole_chain_from_bdk_to_last_counter():
    terminal = dukpt.Dukpt(initial_key(BDK, KEY_ID), KEY_ID)
    assert _hex(terminal.transaction_key(0xFFFF0000)) == "F6BA59389BD14A9855BE9727E7C52E3C"


def test_counter_1_working_keys_match_published_vectors():
    terminal = _terminal()
    for usage, expected in COUNTER_1_WORKING_KEYS:
        assert _hex(terminal.working_key(1, usage)) == expected, hex(usage)


def test_mac_generation_keys_match_published_vectors():
    terminal = _terminal()
    for counter, expected in MAC_GENERATION_KEYS:
        got = terminal.working_key(counter, KEY_USAGE_MAC_GENERATION)
        assert _hex(got) == expected, hex(counter)


def test_mac_key_counter_1_matches_published_vector():
    assert _hex(_terminal().mac_key(1)) == "85675439D18D7F1158BD8E3EAA3D502B"


def test_mac_key_counters_2_and_last():
    # Not in the published tables; computed with OpenSSL as AES-128-ECB under the
    # published transaction key of derivation data 0101 2002 0002 0080 90123456
    # <counter> (the same layout reproduces the published counter-1 key).
    terminal = _terminal()
    assert _hex(terminal.mac_key(2)) == "7832C83D08539133C8117F84BBBF4EF6"
    assert _hex(terminal.mac_key(0xFFFF0000)) == "780AB5DAE5DC205D84A443F6E1BAFD0B"


def test_mac_key_is_one_aes_step_from_transaction_key():
    terminal = _terminal()
    data = unhexlify("01012002000200809012345600000002")
    transaction_key = terminal.transaction_key(2)
    expected = cryptolib.aes(transaction_key, 1).encrypt(data)
    assert terminal.mac_key(2) == expected


def test_mac_key_into_caller_buffer():
    terminal = _terminal()
    key = bytearray(16)
    result = terminal.mac_key(1, key)
    assert result is key
    assert _hex(key) == "85675439D18D7F1158BD8E3EAA3D502B"


def test_mac_key_drives_cmac():
    # Expected MAC from pyca/cryptography (OpenSSL) on the host under the same key.
    mac = Cmac(_terminal().mac_key(1)).mac8(bytes(range(200)))
    assert _hex(mac) == "F3CDD2A7AA40813F"


def test_derivations_do_not_disturb_each_other():
    terminal = _terminal()
    terminal.mac_key(0xFFFF0000)
    terminal.ksn_hex(0x12345)
    assert _hex(terminal.transaction_key(1)) == "4F21B565BAD9835E112B6465635EAE44"
    assert _hex(terminal.mac_key(1)) == "85675439D18D7F1158BD8E3EAA3D502B"


def test_intermediate_key_register_is_wiped():
    terminal = _terminal()
    terminal.mac_key(7)
    assert terminal._key == bytearray(16)


def test_next_counter_simple_steps():
    assert next_counter(0) == 1
    assert next_counter(1) == 2
    assert next_counter(7) == 8
    # 16 one-bits, but the carry leaves one: no skip needed.
    assert next_counter(0x0000FFFF) == 0x00010000


def test_next_counter_skips_counter_with_17_one_bits():
    # 0x1FFFE has 16 one-bits; 0x1FFFF would have 17.
    assert dukpt.one_bits(0x1FFFF) == 17
    assert next_counter(0x0001FFFE) == 0x00020000


def test_next_counter_walks_the_published_last_counters():
    counter = 0xFFFE2000
    for expected in (0xFFFE4000, 0xFFFE8000, 0xFFFF0000):
        counter = next_counter(counter)
        assert counter == expected, hex(counter)


def test_next_counter_raises_when_exhausted():
    _raises(dukpt.CounterExhaustedError, next_counter, 0xFFFF0000)


def test_next_counter_agrees_with_brute_force():
    counter = 0x0003FFF0
    for _ in range(200):
        brute = counter + 1
        while dukpt.one_bits(brute) > 16:
            brute += 1
        counter = next_counter(counter)
        assert counter == brute, hex(counter)
        assert dukpt.is_valid_counter(counter)


def test_derivation_rejects_invalid_counters():
    terminal = _terminal()
    for counter in (0, 0x0001FFFF, 0xFFFFFFFF, 1 << 32, -1):
        _raises(ValueError, terminal.mac_key, counter)


def test_rejects_wrong_key_lengths():
    _raises(ValueError, dukpt.Dukpt, INITIAL_KEY[:15], KEY_ID)
    _raises(ValueError, dukpt.Dukpt, INITIAL_KEY, KEY_ID[:7])
    _raises(ValueError, initial_key, BDK + BDK, KEY_ID)


def test_ksn():
    terminal = _terminal()
    assert _hex(terminal.ksn(1)) == "123456789012345600000001"
    assert _hex(terminal.ksn(0xFFFF0000)) == "1234567890123456FFFF0000"


def test_ksn_hex_for_de53():
    terminal = _terminal()
    assert terminal.ksn_hex(0x0001FFFE) == b"12345678901234560001FFFE"
    out = bytearray(24)
    assert terminal.ksn_hex(0xFFFF0000, out) is out
    assert out == b"1234567890123456FFFF0000"


def test_message_keys_give_the_ksn_and_mac_key_of_the_nth_counter():
    ksn, key = dukpt.message_keys(INITIAL_KEY, KEY_ID, 1)
    assert ksn == b"123456789012345600000001"
    assert _hex(key) == "85675439D18D7F1158BD8E3EAA3D502B"  # published, counter 1, MAC both ways
    # the 0x1FFFF-th message uses counter 0x20000: 0x1FFFF has 17 one-bits and is skipped
    ksn, key = dukpt.message_keys(INITIAL_KEY, KEY_ID, 0x1FFFF)
    assert ksn == b"12345678901234560002" + b"0000"
    assert key == _terminal().mac_key(0x20000)


def heap_per_mac_transaction(counter, message_len=200):
    """Heap bytes for one transaction's mac_key(counter) + rekey + mac8 over message_len bytes.

    Benchmark helper (not a test): buffers are made beforehand, as the firmware would
    keep them, so only what the derivation itself allocates is counted.
    """
    terminal = _terminal()
    mac = Cmac(bytes(16))
    key = bytearray(16)
    message = bytearray(message_len)
    out = bytearray(8)
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        terminal.mac_key(counter, key)
        mac.rekey(key)
        mac.mac8(message, out)
        return gc.mem_alloc() - before
    finally:
        gc.enable()


def _aes_object_bytes():
    key = bytes(16)
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        cryptolib.aes(key, 1)
        return gc.mem_alloc() - before
    finally:
        gc.enable()


def test_heap_is_only_aes_key_schedules():
    # One cryptolib.aes per one-bit of the counter, one for the working key, one for
    # the CMAC key; nothing else.  0x3FFFC000 has 16 one-bits and is a small int on
    # every port.
    per_aes = _aes_object_bytes()
    for counter in (1, 0x3FFFC000):
        allocated = heap_per_mac_transaction(counter)
        print("heap", hex(counter), allocated, "bytes;", per_aes, "per cryptolib.aes")
        assert allocated == (dukpt.one_bits(counter) + 2) * per_aes, allocated


def test_counter_at_counts_valid_counters_from_one():
    assert [dukpt.counter_at(i) for i in (1, 2, 3, 0xFFFF, 0x1FFFE)] == [1, 2, 3, 0xFFFF, 0x1FFFE]


def test_counter_at_skips_what_next_counter_skips():
    # 0x1FFFF has 17 one-bits: the 0x1FFFF-th valid counter is the next one after 0x1FFFE.
    assert dukpt.counter_at(0x1FFFF) == next_counter(0x1FFFE) == 0x20000
    for start in (0x1FFF0, 0x3FFF0, 0xFFFFF0, 0x7FFFFFF0):
        index = start
        counter = dukpt.counter_at(index)
        for _ in range(40):
            index += 1
            counter = next_counter(counter)
            assert dukpt.counter_at(index) == counter, (hex(index), hex(counter))


def test_counter_at_ends_where_the_counters_end():
    # How many valid counters there are: sum of C(32, k) for k = 1..16.
    total = 0
    ways = 1
    for k in range(17):
        if k:
            total += ways
        ways = ways * (32 - k) // (k + 1)
    assert dukpt.counter_at(total) == 0xFFFF0000
    _raises(dukpt.CounterExhaustedError, dukpt.counter_at, total + 1)
    _raises(ValueError, dukpt.counter_at, 0)
