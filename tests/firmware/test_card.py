import card


def test_luhn_accepts_valid_numbers_and_rejects_one_digit_off():
    for pan in ("4111111111111111", "5555555555554444", "6212345678901232", "378282246310005"):
        assert card.luhn_ok(pan), pan
    assert not card.luhn_ok("4111111111111112")
    assert not card.luhn_ok("41111111111a1111")


def test_pan_errors_name_the_problem():
    assert card.pan_error("4111111111111111") is None
    assert card.pan_error("41111111111") == "pan_length"
    assert card.pan_error("4" * 20) == "pan_length"
    assert card.pan_error("4111111111111112") == "pan_luhn"


def test_expiry_is_yymm_with_a_real_month():
    assert card.expiry_error("2812") is None
    assert card.expiry_error("2813") == "expiry_format"
    assert card.expiry_error("2800") == "expiry_format"
    assert card.expiry_error("281") == "expiry_format"


def test_track2_gives_pan_and_expiry_only():
    assert card.parse_track2(b";4111111111111111=28121010000012345?") == ("4111111111111111", "2812")
    assert card.parse_track2("6212345678901232D2906201") == ("6212345678901232", "2906")


def test_unreadable_track2_is_none():
    for data in (b"", b";?", b";4111111111111112=2812?", b"4111111111111111", b";4111111111111111=28?"):
        assert card.parse_track2(data) is None, data


def test_masking_keeps_first_six_and_last_four():
    assert card.masked("4111111111111111") == "411111******1111"
    assert card.truncated("4111111111111111") == "4111111111"
    assert card.masked("378282246310005") == "378282*****0005"
