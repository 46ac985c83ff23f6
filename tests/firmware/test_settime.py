"""The year a board's clock gets from the acquirer's DE 7 (MMDDhhmmss, no year on the wire)."""
import clock
import settime

JAN_2026 = 1767225600  # 2026-01-01 00:00:00 UTC; the Unix times below are CPython's calendar.timegm


def test_days_agree_with_the_calendar_across_leap_years_and_centuries():
    for (year, month, day), unix in (((1970, 1, 1), 0), ((2000, 2, 29), 951782400), ((2026, 12, 2), 1796169600),
                                     ((2028, 2, 29), 1835395200), ((2028, 3, 1), 1835481600),
                                     ((2099, 12, 31), 4102358400), ((2100, 3, 1), 4107542400)):
        assert settime._days(year, month, day) * 86400 == unix, (year, month, day)


def test_the_year_is_the_first_that_is_not_before_what_the_terminal_knows():
    assert settime.moment("1202140530", JAN_2026) == 1796220330  # 2026-12-02 14:05:30
    # the newest journal record is from March 2027: a December time is December 2027
    assert settime.moment("1202140530", 1803859200) == 1827756330
    # New Year's Eve, the journal's last sale a few minutes into the new year by a fast clock: still 2026
    assert settime.moment("1231235900", 1798761780) == 1798761540
    # a leap day after a record of June 2027 is 2028's
    assert settime.moment("0229120000", 1811808000) == 1835438400


def test_setting_the_clock_moves_now_and_known():
    before = clock._skew
    try:
        clock.set(946684800)  # a board after power-on: 2000-01-01
        assert not clock.known()
        assert abs(clock.now() - 946684800) <= 1
        clock.set(1796220330)
        assert clock.known()
        assert clock.utc(clock.now())[0:5] == (2026, 12, 2, 14, 5)
    finally:
        clock._skew = before
