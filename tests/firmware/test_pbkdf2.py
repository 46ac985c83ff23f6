import binascii

import pbkdf2

# PBKDF2-HMAC-SHA256, 32-byte output (the RFC 6070 inputs, with SHA-256; CPython's hashlib agrees)
VECTORS = (
    ("password", b"salt", 1, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
    ("password", b"salt", 2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
    ("password", b"salt", 4096, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
    ("passwordPASSWORDpassword" * 3, b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 10,
     "9921579855b636a86ab61e9f5f233dc1bfca7595fd1b4c46cf68f06dd79f4367"),  # a key longer than a block
)


def test_the_derivation_matches_the_published_vectors():
    for password, salt, rounds, expected in VECTORS:
        got = pbkdf2._derive(password, salt, rounds)
        assert binascii.hexlify(got).decode() == expected, (password, rounds)


def test_a_record_checks_its_password_and_no_other():
    record = pbkdf2.make("654321")
    rounds, salt, digest = record.split("$")
    assert rounds == "2000" and len(salt) == 32 and len(digest) == 64
    assert pbkdf2.check("654321", record)
    assert not pbkdf2.check("654320", record)
    assert not pbkdf2.check("6543210", record)
    assert pbkdf2.make("654321") != record, "a fresh salt each time"


def test_the_factory_record_is_the_demo_password():
    from config import Config

    assert pbkdf2.check("123456", Config.supervisor_password)
    assert "123456" not in Config.supervisor_password


def test_a_record_that_is_not_one_checks_nothing():
    for bad in ("", "123456", "2000$zz$00", "x$00$00", "2000$00"):
        assert not pbkdf2.check("123456", bad), bad
